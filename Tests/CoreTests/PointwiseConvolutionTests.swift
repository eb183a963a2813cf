import Testing
@testable import Core
import TestSupport

@Suite struct PointwiseConvolutionTests {
    /// `PointwiseConvolution.forward` into a NaN-filled buffer, so an output element it skips fails the comparison.
    func forward(_ g: ConvGeometry, _ x: Tensor, _ w: Tensor) -> [Float] {
        var y = [Float](repeating: .nan, count: g.batch * g.outputChannels * g.outputPlane)
        x.scalars.withUnsafeBufferPointer { xp in
            w.scalars.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer {
                    PointwiseConvolution.forward(input: xp.baseAddress!, weight: wp.baseAddress!, geometry: g,
                                                 output: $0.baseAddress!)
                }
            }
        }
        return y
    }

    /// Against float64 sums: ResNet18's downsampling shortcut in miniature (stride 2 on 8x8 -> 4x4 maps and on 16x16 ->
    /// 8x8, whose 64 pixels fill two 32-pixel blocks per image), 5x5 outputs whose blocks straddle images, 2x2 outputs
    /// (eight images per block), odd maps, padding (zero runs), strides 1 and 3 (the contiguous and scalar gathers),
    /// channel counts that leave a partial 12-channel group, one input channel, and a pixel count that leaves a partial
    /// last block. Sums of at most 64 float32 products: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, h, w, stride, padding)
        (2, 16, 24, 8, 8, 2, 0), (2, 64, 30, 16, 16, 2, 0), (3, 16, 13, 10, 10, 2, 0), (9, 20, 40, 4, 4, 2, 0),
        (2, 17, 25, 9, 7, 2, 1), (3, 5, 7, 6, 6, 2, 0), (3, 4, 12, 5, 5, 1, 1), (2, 3, 24, 8, 8, 3, 0),
        (1, 1, 1, 1, 1, 1, 0), (5, 1, 14, 7, 9, 2, 2), (2, 33, 12, 31, 33, 2, 0),
    ])
    func matchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, s, p) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: 1,
                             kernelWidth: 1, stride: s, padding: p)
        let x = testTensor([n, cin, h, w], seed: 191, requiresGrad: false)
        let weight = testTensor([cout, cin, 1, 1], seed: 192, requiresGrad: false)
        let expected = naiveConv2d(x, weight, nil, stride: s, padding: p, dilation: 1).map(Float.init)
        #expect(relativeError(forward(g, x, weight), expected) < 1e-5, "\(c)")
    }

    /// A block's gather runs follow output rows and step by the stride; padding pixels and the positions past the last
    /// pixel are zero runs, and a block's store segments split where it crosses into the next image.
    @Test func planSplitsBlocksIntoRunsAndSegments() {
        // 5x5 outputs from 10x10 inputs, stride 2: block 0 holds image 0 (25 pixels) and 7 pixels of image 1
        let g = ConvGeometry(batch: 2, inputChannels: 3, height: 10, width: 10, outputChannels: 4, kernelHeight: 1,
                             kernelWidth: 1, stride: 2)
        let plan = PointwiseConvolution.Plan(g)
        #expect(plan.blocks == 2)
        let first = plan.runs[plan.runStart[0]..<plan.runStart[1]]
        #expect(first.map(\.count) == [5, 5, 5, 5, 5, 5, 2])
        #expect(first.map(\.source) == [0, 20, 40, 60, 80, 300, 320])
        let segments = plan.segments[plan.segmentStart[0]..<plan.segmentStart[1]]
        #expect(segments.map(\.count) == [25, 7])
        #expect(segments.map(\.output) == [0, 4 * 25])
        // block 1: the rest of image 1 (18 pixels), then 14 positions past the end as one zero run
        let second = plan.runs[plan.runStart[1]..<plan.runStart[2]]
        #expect(second.last.map { [$0.position, $0.count, $0.source] } == [18, 14, -1])
        #expect(plan.segments[plan.segmentStart[1]..<plan.segmentStart[2]].map(\.count) == [18])
    }

    /// Routing: `.direct` sends any 1x1 forward here; automatic routing only strided or padded 1x1 kernels over at
    /// least 16 channels, on CPUs with wide vectors.
    @Test func routing() {
        func g(_ cin: Int, _ stride: Int) -> ConvGeometry {
            ConvGeometry(batch: 2, inputChannels: cin, height: 8, width: 8, outputChannels: 32, kernelHeight: 1,
                         kernelWidth: 1, stride: stride)
        }
        #expect(ConvolutionRouter.host.kernel(for: .forward, g(4, 1), algorithm: .direct) == PointwiseConvolution.self)
        #expect(ConvolutionRouter.host.kernel(for: .forward, g(64, 2), algorithm: .im2col) == Im2ColConvolution.self)
        #expect(ConvolutionRouter(cpu: .avx512Native).kernel(for: .forward, g(64, 2)) == PointwiseConvolution.self)
        #expect(ConvolutionRouter(cpu: .avx2).kernel(for: .forward, g(64, 2)) != PointwiseConvolution.self)
        #expect(!PointwiseConvolution.prefers(.forward, g(64, 1), on: .avx512Native))
        #expect(!PointwiseConvolution.prefers(.forward, g(8, 2), on: .avx512Native))
    }
}
