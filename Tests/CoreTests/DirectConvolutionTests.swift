import Testing
@testable import Core
import TestSupport

/// `(dx, dw)` of `sum(dy * conv(x, w))` by `ConvolutionRouter.host.backward` with `algorithm`; a gradient not asked for
/// stays NaN.
func convolutionGradients(_ g: ConvGeometry, _ x: Tensor, _ w: Tensor, _ dy: Tensor, _ algorithm: ConvAlgorithm,
                          input: Bool = true, weight: Bool = true) -> (dx: [Float], dw: [Float]) {
    var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
    x.scalars.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
            dy.scalars.withUnsafeBufferPointer { dyp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    dw.withUnsafeMutableBufferPointer { dwp in
                        ConvolutionRouter.host.backward(input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: dyp.baseAddress!,
                                                    geometry: g, gradInput: input ? dxp.baseAddress : nil,
                                                    gradWeight: weight ? dwp.baseAddress : nil, gradBias: nil,
                                                    algorithm: algorithm)
                    }
                }
            }
        }
    }
    return (dx, dw)
}

@Suite struct DirectConvolutionTests {
    func forward(_ g: ConvGeometry, _ x: Tensor, _ w: Tensor, _ algorithm: ConvAlgorithm) -> [Float] {
        var y = [Float](repeating: .nan, count: g.batch * g.outputChannels * g.outputPlane)
        x.scalars.withUnsafeBufferPointer { xp in
            w.scalars.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer {
                    ConvolutionRouter.host.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, geometry: g,
                                               output: $0.baseAddress!, algorithm: algorithm)
                }
            }
        }
        return y
    }

    /// The direct kernel against float64 sums: ResNet18's 3x3 shapes in miniature (stride 1 and 2 on 2x2 to 9x9
    /// maps), 1x1 stride 2, 5x5 and 7x7 kernels, padding 0 to 3, dilation 2, non-square kernels and maps, channel
    /// counts that leave a partial 32-channel panel and pixel counts that leave a partial 12-pixel tile, one input
    /// channel (the stem). Every output element is written (the buffer starts as NaN). Sums of at most a few
    /// thousand float32 products: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, h, w, kh, kw, stride, padding, dilation)
        (3, 4, 5, 2, 2, 3, 3, 1, 1, 1), (2, 16, 64, 4, 4, 3, 3, 1, 1, 1), (2, 17, 40, 8, 8, 3, 3, 2, 1, 1),
        (5, 8, 33, 5, 5, 3, 3, 1, 1, 1), (2, 6, 32, 9, 7, 3, 3, 2, 1, 1), (3, 5, 7, 6, 6, 1, 1, 2, 0, 1),
        (2, 3, 12, 11, 10, 5, 5, 1, 2, 1), (2, 1, 16, 13, 13, 7, 7, 2, 3, 1), (2, 4, 9, 7, 8, 3, 3, 1, 2, 2),
        (1, 3, 3, 6, 5, 2, 3, 1, 0, 1), (4, 20, 70, 3, 3, 3, 3, 3, 1, 1), (2, 3, 2, 1, 1, 3, 3, 1, 3, 1),
    ])
    func matchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, kh, kw, s, p, d) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: kh,
                             kernelWidth: kw, stride: s, padding: p, dilation: d)
        let x = testTensor([n, cin, h, w], seed: 181, requiresGrad: false)
        let weight = testTensor([cout, cin, kh, kw], seed: 182, requiresGrad: false)
        // called directly: `.direct` routing sends 1x1 kernels to `PointwiseConvolution`
        var y = [Float](repeating: .nan, count: n * cout * g.outputPlane)
        x.scalars.withUnsafeBufferPointer { xp in
            weight.scalars.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer {
                    DirectConvolution.forward(input: xp.baseAddress!, weight: wp.baseAddress!, geometry: g, output: $0.baseAddress!)
                }
            }
        }
        let expected = naiveConv2d(x, weight, nil, stride: s, padding: p, dilation: d).map(Float.init)
        #expect(relativeError(y, expected) < 1e-5, "\(c)")
    }

    /// A geometry whose work runs tile-block-major (all weights fit in L2, the padded input does not) gives the same
    /// result as im2col, forward and input gradient.
    @Test func tileBlockMajorOrderMatchesIm2col() {
        let g = ConvGeometry(batch: 8, inputChannels: 40, height: 36, width: 36, outputChannels: 48, kernelHeight: 3,
                             kernelWidth: 3, padding: 1)
        #expect(DirectConvolution.tileBlockMajor(DirectConvolution.plan(g)))
        #expect(DirectConvolution.tileBlockMajor(DirectConvolution.plan(DirectConvolution.inputGradientGeometry(g))))
        let x = testTensor([8, 40, 36, 36], seed: 211, requiresGrad: false)
        let weight = testTensor([48, 40, 3, 3], seed: 212, requiresGrad: false)
        #expect(relativeError(forward(g, x, weight, .direct), forward(g, x, weight, .im2col)) < 1e-5)
        let dy = testTensor([8, 48, 36, 36], seed: 213, requiresGrad: false)
        #expect(relativeError(inputGradient(g, weight, dy, .direct), inputGradient(g, weight, dy, .im2col)) < 1e-5)
    }

    func inputGradient(_ g: ConvGeometry, _ w: Tensor, _ dy: Tensor, _ algorithm: ConvAlgorithm) -> [Float] {
        let x = Tensor.zeros([g.batch, g.inputChannels, g.height, g.width])  // not read for the input gradient alone
        return convolutionGradients(g, x, w, dy, algorithm, weight: false).dx
    }

    /// Input gradients of stride-1 convolutions (the kernel on the flipped, channel-swapped weights) against
    /// float64 sums: 3x3 "same" convolutions on small and odd maps, 5x5 and 1x1 kernels, padding 0 (a "full"
    /// correlation of the gradient), dilation 2, partial panels. The weight gradient (by the automatic path) too.
    @Test(arguments: [
        // (n, cin, cout, h, w, k, padding, dilation)
        (3, 4, 5, 2, 2, 3, 1, 1), (2, 40, 16, 8, 8, 3, 1, 1), (2, 17, 33, 7, 5, 3, 1, 1), (2, 5, 6, 9, 9, 5, 2, 1),
        (2, 6, 7, 6, 7, 3, 0, 1), (2, 3, 4, 9, 8, 3, 2, 2), (3, 20, 12, 4, 4, 1, 0, 1),
    ])
    func inputGradientMatchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, k, p, d) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: k,
                             kernelWidth: k, padding: p, dilation: d)
        #expect(DirectConvolution.supportsInputGradient(g))
        let x = testTensor([n, cin, h, w], seed: 191, requiresGrad: false)
        let weight = testTensor([cout, cin, k, k], seed: 192, requiresGrad: false)
        let dy = testTensor([n, cout, g.outputHeight, g.outputWidth], seed: 193, requiresGrad: false)
        let (dx, dw) = convolutionGradients(g, x, weight, dy, .direct)
        let expected = naiveConv2dGradients(x, weight, dy, stride: 1, padding: p, dilation: d)
        #expect(relativeError(dx, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
        #expect(relativeError(dw, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
    }

    /// Weight gradients by the direct reduction against float64 sums (through `.direct` routing, which sends
    /// few-channel geometries to `FewChannelWeightGradient` instead): 3x3 stride 1 and 2, 1x1 stride 2, 5x5, dilation 2,
    /// input channel counts that leave a short block of 12 or end in blocks of 8 (8, 16, 40), output channels that
    /// leave a partial 32-channel panel, pixel counts beyond one block of 256.
    @Test(arguments: [
        // (n, cin, cout, h, w, k, stride, padding, dilation)
        (2, 16, 40, 9, 9, 3, 1, 1, 1), (3, 13, 32, 8, 7, 3, 2, 1, 1), (2, 24, 33, 6, 6, 1, 2, 0, 1),
        (2, 5, 7, 9, 8, 5, 1, 2, 1), (2, 12, 20, 9, 9, 3, 1, 2, 2), (5, 17, 64, 12, 12, 3, 1, 1, 1),
        (2, 40, 32, 7, 7, 3, 1, 1, 1), (2, 8, 36, 6, 6, 3, 2, 1, 1),
    ])
    func weightGradientMatchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, k, s, p, d) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: k,
                             kernelWidth: k, stride: s, padding: p, dilation: d)
        #expect(ConvolutionRouter.host.kernel(for: .weightGradient, g, algorithm: .direct) == DirectConvolution.self)
        let x = testTensor([n, cin, h, w], seed: 221, requiresGrad: false)
        let weight = testTensor([cout, cin, k, k], seed: 222, requiresGrad: false)
        let dy = testTensor([n, cout, g.outputHeight, g.outputWidth], seed: 223, requiresGrad: false)
        let (dx, dw) = convolutionGradients(g, x, weight, dy, .direct)
        let expected = naiveConv2dGradients(x, weight, dy, stride: s, padding: p, dilation: d)
        #expect(relativeError(dw, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
        #expect(relativeError(dx, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
    }

    /// Strided convolutions and cropped gradients are not expressed as a plain correlation.
    @Test func inputGradientNeedsStrideOneAndNoCropping() {
        func g(_ h: Int, _ k: Int, _ s: Int, _ p: Int) -> ConvGeometry {
            ConvGeometry(batch: 1, inputChannels: 2, height: h, width: h, outputChannels: 2, kernelHeight: k, kernelWidth: k,
                         stride: s, padding: p)
        }
        #expect(!DirectConvolution.supportsInputGradient(g(8, 3, 2, 1)))
        #expect(!DirectConvolution.supportsInputGradient(g(8, 3, 1, 3)))  // padding beyond k - 1
        #expect(DirectConvolution.supportsInputGradient(g(8, 3, 1, 2)))
    }

    /// Pixels are ordered by the taps they need, and a tile runs the union of its pixels' taps: on a 2x2 map with a
    /// padded 3x3 kernel every pixel needs 4 taps, so tiles made of one position run 4 of the 9.
    @Test func tilesRunOnlyTheTapsTheirPixelsNeed() {
        let g = ConvGeometry(batch: 24, inputChannels: 8, height: 2, width: 2, outputChannels: 8, kernelHeight: 3,
                             kernelWidth: 3, padding: 1)
        let plan = DirectConvolution.Plan(g)
        #expect(plan.tileTaps.count == 8)
        #expect(plan.tileTaps.allSatisfy { $0.count == 4 })
        #expect(plan.pixelOutput.count == 96 && Set(plan.pixelOutput).count == 96)
    }

    /// The weight gradient's plan lists, per tap, the output pixels whose tap reads inside the input: on 4x4 maps with
    /// padding 1 the corner tap reaches 3 x 3 of them, the centre tap all 16; stride 2 on 8x8 inputs (4x4 outputs)
    /// loses the first row and column for the top-left tap only.
    @Test func weightGradientPlanSkipsPadding() {
        func counts(_ h: Int, _ stride: Int) -> [Int] {
            let g = ConvGeometry(batch: 2, inputChannels: 16, height: h, width: h, outputChannels: 32, kernelHeight: 3,
                                 kernelWidth: 3, stride: stride, padding: 1)
            let plan = DirectWeightGradient.Plan(g)
            return (0..<9).map { plan.blockBounds[$0 * (plan.blocks + 1) + plan.blocks] - plan.blockBounds[$0 * (plan.blocks + 1)] }
        }
        #expect(counts(4, 1) == [18, 24, 18, 24, 32, 24, 18, 24, 18])
        #expect(counts(8, 2) == [18, 24, 24, 24, 32, 32, 24, 32, 32])
        // routing: 4x4 maps with at most 2^20 weights here (CPUs with wide vectors), 2x2 maps and larger weights
        // tap-wise
        func g(_ channels: Int, _ size: Int) -> ConvGeometry {
            ConvGeometry(batch: 32, inputChannels: channels, height: size, width: size, outputChannels: channels,
                         kernelHeight: 3, kernelWidth: 3, padding: 1)
        }
        #expect(DirectWeightGradient.prefers(g(256, 4), on: .avx512Native))
        #expect(!DirectWeightGradient.prefers(g(256, 4), on: .avx2))
        #expect(!DirectWeightGradient.prefers(g(512, 5), on: .avx512Native))
        #expect(!DirectWeightGradient.prefers(g(128, 2), on: .avx512Native))
    }

    /// Weight-gradient channel blocks: 12 wide, then 8 wide for the rest of a multiple of 4; otherwise one short block.
    @Test func weightGradientChannelBlocks() {
        func widths(_ cin: Int) -> [Int] { DirectWeightGradient.channelBlocks(cin).map(\.count) }
        #expect(widths(64) == [12, 12, 12, 12, 8, 8])
        #expect(widths(128) == Array(repeating: 12, count: 10) + [8])
        #expect(widths(48) == [12, 12, 12, 12])
        #expect(widths(16) == [8, 8])
        #expect(widths(8) == [8])
        #expect(widths(17) == [12, 5])
        #expect(widths(4) == [4])
        for cin in 1...80 {
            let blocks = DirectWeightGradient.channelBlocks(cin)
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == cin, "\(cin)")
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(cin)")
        }
    }

    /// Blocked transposes against the definition: full 16 x 16 blocks, bands of 16 rows with partial blocks read
    /// in registers (dense rows of 9, as for 3x3 weights) or element by element at the matrix end, short edges; with
    /// the Swift blocks and, on AVX-512 CPUs, the intrinsics.
    @Test(arguments: [(16, 16, 3, 5), (33, 47, 3, 5), (5, 40, 3, 5), (48, 3, 3, 5), (1, 1, 3, 5), (48, 9, 0, 0),
                      (50, 9, 0, 7)], [false, true])
    func transposeMatchesDefinition(_ shape: (Int, Int, Int, Int), avx512: Bool) {
        guard !avx512 || Transpose.usesAVX512Blocks else { return }
        let (rows, columns) = (shape.0, shape.1), lds = columns + shape.2, ldd = rows + shape.3
        let source = (0..<(rows * lds)).map { Float($0) }
        var destination = [Float](repeating: -1, count: columns * ldd)
        source.withUnsafeBufferPointer { s in
            destination.withUnsafeMutableBufferPointer { d in
                Transpose.matrix(s.baseAddress!, lds: lds, d.baseAddress!, ldd: ldd, rows: rows, columns: columns,
                                 avx512: avx512)
            }
        }
        for i in 0..<rows {
            for j in 0..<columns where destination[j * ldd + i] != source[i * lds + j] {
                Issue.record("(\(i), \(j)): \(destination[j * ldd + i]) != \(source[i * lds + j])")
                return
            }
        }
        if ldd > rows { #expect(destination[rows] == -1) }  // gaps between output rows untouched
    }
}

@Suite struct FewChannelWeightGradientTests {
    /// Weight gradients by row dot products against float64 sums: the stem (1 channel, 7x7, stride 2, padding 3),
    /// stride 1, several input channels, 5x5 and 2-wide kernels, output channel counts that leave a short group of
    /// 3, image counts that leave a short chunk, with and without the input gradient (which goes elsewhere).
    /// Sums over up to ~10,000 products: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, h, w, kh, kw, stride, padding, input gradient)
        (5, 1, 8, 32, 32, 7, 7, 2, 3, false), (2, 1, 64, 31, 32, 7, 7, 2, 3, false), (3, 3, 5, 16, 16, 3, 3, 1, 1, true),
        (2, 2, 4, 20, 16, 5, 5, 1, 2, false), (6, 4, 7, 9, 33, 3, 2, 2, 0, true), (1, 1, 1, 16, 16, 1, 1, 1, 0, false),
    ])
    func matchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Bool)) {
        let (n, cin, cout, h, w, kh, kw, s, p, needsInputGradient) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: kh,
                             kernelWidth: kw, stride: s, padding: p)
        #expect(FewChannelWeightGradient.supports(g), "\(g)")
        let x = testTensor([n, cin, h, w], seed: 201, requiresGrad: false)
        let weight = testTensor([cout, cin, kh, kw], seed: 202, requiresGrad: false)
        let dy = testTensor([n, cout, g.outputHeight, g.outputWidth], seed: 203, requiresGrad: false)
        let (dx, dw) = convolutionGradients(g, x, weight, dy, .direct, input: needsInputGradient)
        let expected = naiveConv2dGradients(x, weight, dy, stride: s, padding: p, dilation: 1)
        #expect(relativeError(dw, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
        if needsInputGradient {
            #expect(relativeError(dx, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
        }
    }

    /// Output rows must fill whole vectors; deep inputs go to the GEMM paths.
    @Test func supportsOnlyShallowInputsAndWholeVectorRows() {
        func g(_ cin: Int, _ w: Int, _ k: Int, _ s: Int) -> ConvGeometry {
            ConvGeometry(batch: 2, inputChannels: cin, height: 16, width: w, outputChannels: 8, kernelHeight: k,
                         kernelWidth: k, stride: s, padding: k / 2)
        }
        #expect(FewChannelWeightGradient.supports(g(1, 32, 7, 2)))
        #expect(!FewChannelWeightGradient.supports(g(1, 30, 7, 2)))  // 15 output columns
        #expect(!FewChannelWeightGradient.supports(g(16, 32, 3, 1)))
        #expect(!FewChannelWeightGradient.supports(g(1, 32, 9, 1)))  // wider than a tile
        #expect(!FewChannelWeightGradient.supports(g(1, 48, 3, 3)))
    }
}
