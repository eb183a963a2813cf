import Core
import TestSupport
import Testing

/// The convolutions of ResNet18 and the channel-matched C8 equivariant ResNet (expanded filters: 64-128-256-512
/// channels like ResNet18) on their preset input sides: ResNet18 sees 64 and 150, the C8 network 65 and 161 (its
/// input resampler's sides for 64 and 150). Stem 7x7 stride 2, then after the 3x3 stride-2 max pool four stages of
/// 3x3 convolutions, stages 2-4 opening with a stride-2 3x3 and a 1x1 stride-2 shortcut. Duplicates removed.
func backboneConvolutions(side: Int, batch: Int, channelDivisor: Int = 1) -> [ConvGeometry] {
    func out(_ s: Int, _ k: Int, _ stride: Int, _ p: Int) -> Int { (s + 2 * p - k) / stride + 1 }
    let planes = [64, 128, 256, 512].map { max(1, $0 / channelDivisor) }
    var shapes: [ConvGeometry] = []
    func add(_ cin: Int, _ cout: Int, _ s: Int, _ k: Int, _ stride: Int, _ p: Int) {
        let g = ConvGeometry(batch: batch, inputChannels: cin, height: s, width: s, outputChannels: cout, kernelHeight: k,
                             kernelWidth: k, stride: stride, padding: p)
        if !shapes.contains(g) { shapes.append(g) }
    }
    add(1, planes[0], side, 7, 2, 3)
    var s = out(out(side, 7, 2, 3), 3, 2, 1), channels = planes[0]
    for (stage, c) in planes.enumerated() {
        let stride = stage == 0 ? 1 : 2
        add(channels, c, s, 3, stride, 1)
        if stride != 1 || channels != c { add(channels, c, s, 1, stride, 0) }
        s = out(s, 3, stride, 1)
        add(c, c, s, 3, 1, 1)
        channels = c
    }
    return shapes
}

/// Every convolution kernel the router can choose, run on the backbones' own shapes against im2col + GEMM: the
/// automatic choice of this build on this CPU, and each specialised kernel forced (`.direct`: the register-blocked
/// direct forward, pointwise 1x1 forward, direct input gradient, direct and few-channel weight gradients; `.taps`;
/// `.fft` where it applies), forward, input gradient and weight gradient.
///
/// Run in the release configuration with the native flags by `make test` (see the Makefile's `test-kernels`), so the
/// kernels users' release builds route to are the ones compared. Debug builds run the same maps with an eighth of the
/// channels and two images (the unoptimised kernels are too slow for full width), as a quick check of the same code.
@Suite struct KernelEquivalenceTests {
    #if DEBUG
    static let channelDivisor = 8
    static let batch = 2
    #else
    static let channelDivisor = 1
    static let batch = 4
    #endif

    static let cases: [(String, ConvGeometry)] = [("resnet18", 64), ("resnet18", 150), ("c8resnet", 65), ("c8resnet", 161)]
        .flatMap { name, side in
            backboneConvolutions(side: side, batch: batch, channelDivisor: channelDivisor).map { ("\(name) at \(side): \($0)", $0) }
        }

    /// `[y, dx, dw]` of `sum(dy * conv(x, w))` through the public kernel entry points with `algorithm`.
    func run(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, _ x: Tensor, _ w: Tensor, _ dy: Tensor) -> [[Float]] {
        let (y, dx, dw) = TapConvolutionTests().run(g, algorithm, x, w, dy)
        return [y, dx, dw]
    }

    /// Float32 sums in another order (FFTs add O(log T) epsilons): the weight gradient sums up to 4 x 81^2 products
    /// per element (stem at 161), the forward and input gradient up to 4,608, so round-off stays near 1e-5 of the
    /// output scale; 1e-4 leaves room, and an indexing error is O(1). Every output element is compared (buffers start
    /// as NaN).
    @Test(arguments: cases)
    func matchesIm2col(_ c: (String, ConvGeometry)) {
        let g = c.1
        let x = testTensor([g.batch, g.inputChannels, g.height, g.width], seed: 301, requiresGrad: false)
        let w = testTensor([g.outputChannels, g.inputChannels, g.kernelHeight, g.kernelWidth], seed: 302, requiresGrad: false)
        let dy = testTensor([g.batch, g.outputChannels, g.outputHeight, g.outputWidth], seed: 303, requiresGrad: false)
        let reference = run(g, .im2col, x, w, dy)
        var algorithms: [(String, ConvAlgorithm)] = [("automatic", .automatic), ("direct", .direct), ("taps", .taps)]
        if g.stride == 1 && g.kernelHeight >= 3 { algorithms.append(("fft", .fft(tileSize: nil))) }
        for (name, algorithm) in algorithms {
            let result = run(g, algorithm, x, w, dy)
            for (part, (a, b)) in zip(["forward", "input gradient", "weight gradient"], zip(result, reference)) {
                #expect(relativeError(a, b) < 1e-4, "\(name) \(part), \(c.0)")
            }
        }
    }

    /// The list covers both backbones' stems, 3x3 layers of every stage, strided openings and 1x1 shortcuts.
    @Test func shapesCoverBothBackbones() {
        let resnet64 = backboneConvolutions(side: 64, batch: 1)
        #expect(resnet64.count == 11)
        #expect(resnet64.first.map { [$0.inputChannels, $0.outputChannels, $0.kernelHeight, $0.outputHeight] } == [1, 64, 7, 32])
        #expect(resnet64.last.map { [$0.inputChannels, $0.height, $0.stride] } == [512, 2, 1])
        #expect(backboneConvolutions(side: 150, batch: 1).map(\.height) == [150, 38, 38, 38, 19, 19, 19, 10, 10, 10, 5])
        #expect(backboneConvolutions(side: 161, batch: 1).last?.height == 6)
    }
}
