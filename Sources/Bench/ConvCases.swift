import Core

/// One distinct convolution of torchvision's ResNet18 (with a 1-channel stem, as in DeepLense) at batch 32.
struct ResNetConvShape {
    /// `stem`, `l1` ... `l4`.
    let stage: String
    let inputChannels: Int
    let outputChannels: Int
    let kernel: Int
    let stride: Int
    let padding: Int
    /// Input height = width of this layer.
    let size: Int

    /// `<input>-<stage>-<cin>x<cout>-k<kernel>s<stride>`, e.g. `64-l2-64x128-k1s2` (layer2's downsample on the
    /// 64x64-input network). The input size is that of the network, not of the layer.
    func suffix(networkInput: Int) -> String {
        "\(networkInput)-\(stage)-\(inputChannels)x\(outputChannels)-k\(kernel)s\(stride)"
    }

    /// The distinct conv shapes of ResNet18 for a square input: stem 7x7/2 (then 3x3/2 max-pool), and per
    /// stage 2..4 the strided 3x3, the stride-1 3x3 and the strided 1x1 downsample; stage 1 has one shape.
    static func all(input: Int) -> [ResNetConvShape] {
        let afterStem = (input + 2 * 3 - 7) / 2 + 1
        var size = (afterStem + 2 - 3) / 2 + 1
        var shapes = [ResNetConvShape(stage: "stem", inputChannels: 1, outputChannels: 64, kernel: 7, stride: 2, padding: 3, size: input),
                      ResNetConvShape(stage: "l1", inputChannels: 64, outputChannels: 64, kernel: 3, stride: 1, padding: 1, size: size)]
        var channels = 64
        for stage in 2...4 {
            let out = channels * 2, next = (size + 2 - 3) / 2 + 1
            shapes.append(ResNetConvShape(stage: "l\(stage)", inputChannels: channels, outputChannels: out, kernel: 3, stride: 2, padding: 1, size: size))
            shapes.append(ResNetConvShape(stage: "l\(stage)", inputChannels: out, outputChannels: out, kernel: 3, stride: 1, padding: 1, size: next))
            shapes.append(ResNetConvShape(stage: "l\(stage)", inputChannels: channels, outputChannels: out, kernel: 1, stride: 2, padding: 0, size: size))
            channels = out
            size = next
        }
        return shapes
    }

    /// The plain convolution inside the `r2conv-c8-16x16-k5-64` case (128 -> 128 channels, 5x5, padding 2, on
    /// 64x64): `conv-{fwd|bwd}-64-r2-128x128-k5s1`, the yardstick for R2Conv's overhead over Core's conv.
    static let r2convEquivalent = ResNetConvShape(stage: "r2", inputChannels: 128, outputChannels: 128, kernel: 5, stride: 1,
                                                  padding: 2, size: 64)
}

let convBatch = 32

/// `conv-fwd-<shape>`: forward at batch 32 with gradients recorded (as in training), for every ResNet18 shape and
/// `ResNetConvShape.r2convEquivalent`.
/// `conv-bwd-<shape>`: the backward pass alone (input and weight gradients; the stem's input needs none, as
/// in training where images do not require gradients). FLOPs: forward `2 N Cout Ho Wo Cin k^2`; backward
/// twice that (once for the stem).
let convCases: [BenchCase] = [64, 150].flatMap { input in
    (ResNetConvShape.all(input: input) + (input == 64 ? [.r2convEquivalent] : [])).flatMap { s -> [BenchCase] in
        let g = ConvGeometry(batch: convBatch, inputChannels: s.inputChannels, height: s.size, width: s.size,
                             outputChannels: s.outputChannels, kernelHeight: s.kernel, kernelWidth: s.kernel,
                             stride: s.stride, padding: s.padding)
        let inputNeedsGrad = s.stage != "stem"
        func make() -> (Tensor, Tensor) {
            (benchTensor([convBatch, s.inputChannels, s.size, s.size], seed: 3, requiresGrad: inputNeedsGrad),
             benchTensor([s.outputChannels, s.inputChannels, s.kernel, s.kernel], seed: 4, requiresGrad: true))
        }
        let forward = BenchCase(name: "conv-fwd-" + s.suffix(networkInput: input), flops: g.forwardFlops, images: convBatch) {
            let (x, w) = make()
            return { _ = x.conv2d(w, stride: s.stride, padding: s.padding) }
        }
        let backward = BenchCase(name: "conv-bwd-" + s.suffix(networkInput: input),
                                 flops: g.forwardFlops * (inputNeedsGrad ? 2 : 1), images: convBatch) {
            let (x, w) = make()
            let y = x.conv2d(w, stride: s.stride, padding: s.padding)
            let seed = benchTensor(y.shape, seed: 5)
            return {
                x.grad = nil
                w.grad = nil
                y.backward(seed)
            }
        }
        return [forward, backward]
    }
}
