@testable import Core
import TestSupport
import Testing

/// Direct float64 evaluation of the convolution sum (PyTorch's definition), the reference for every shape.
func naiveConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride s: Int, padding p: Int, dilation d: Int) -> [Double] {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let co = w.shape[0], kh = w.shape[2], kw = w.shape[3]
    let ho = (h + 2 * p - d * (kh - 1) - 1) / s + 1, wo = (wd + 2 * p - d * (kw - 1) - 1) / s + 1
    var out = [Double](repeating: 0, count: n * co * ho * wo)
    for b0 in 0..<n { for o in 0..<co { for oy in 0..<ho { for ox in 0..<wo {
        var acc = b.map { Double($0.scalars[o]) } ?? 0
        for ci in 0..<c { for i in 0..<kh { for j in 0..<kw {
            let iy = oy * s - p + i * d, ix = ox * s - p + j * d
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            acc += Double(x.scalars[((b0 * c + ci) * h + iy) * wd + ix]) * Double(w.scalars[((o * c + ci) * kh + i) * kw + j])
        } } }
        out[((b0 * co + o) * ho + oy) * wo + ox] = acc
    } } } }
    return out
}

/// Float64 gradients of `sum(dy * conv(x, w))`: `dx` and `dw` by scattering every tap, `db` by summing dy.
func naiveConv2dGradients(_ x: Tensor, _ w: Tensor, _ dy: Tensor, stride s: Int, padding p: Int, dilation d: Int)
    -> (dx: [Double], dw: [Double], db: [Double]) {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let co = w.shape[0], kh = w.shape[2], kw = w.shape[3], ho = dy.shape[2], wo = dy.shape[3]
    var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
    var db = [Double](repeating: 0, count: co)
    for b0 in 0..<n { for o in 0..<co { for oy in 0..<ho { for ox in 0..<wo {
        let g = Double(dy.scalars[((b0 * co + o) * ho + oy) * wo + ox])
        db[o] += g
        for ci in 0..<c { for i in 0..<kh { for j in 0..<kw {
            let iy = oy * s - p + i * d, ix = ox * s - p + j * d
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            let xi = ((b0 * c + ci) * h + iy) * wd + ix, wi = ((o * c + ci) * kh + i) * kw + j
            dx[xi] += g * Double(w.scalars[wi])
            dw[wi] += g * Double(x.scalars[xi])
        } } }
    } } } }
    return (dx, dw, db)
}

@Suite struct ConvolutionTests {
    /// The three schedules (per-thread row bands of one large image, per-thread tiles of several small images,
    /// shared chunks for a batch smaller than the thread count) against float64 sums. Sums of up to a few
    /// hundred float32 products: 1e-5 relative.
    @Test(arguments: [
        (2, 32, 4, 33, 33, 3, 1, 1, 1), (8, 3, 5, 12, 12, 3, 1, 1, 1), (1, 4, 3, 10, 9, 3, 2, 1, 1),
        (6, 5, 4, 9, 10, 5, 2, 2, 1), (4, 8, 6, 20, 22, 3, 1, 2, 2), (4, 3, 2, 17, 16, 5, 1, 2, 1),
        (2, 3, 4, 37, 38, 3, 2, 1, 1), (2, 2, 3, 41, 40, 7, 2, 3, 1),
    ])
    func backwardMatchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, k, s, p, d) = c
        let x = testTensor([n, cin, h, w], seed: 14)
        let weight = testTensor([cout, cin, k, k], seed: 15)
        let bias = testTensor([cout], seed: 16)
        let y = x.conv2d(weight, bias: bias, stride: s, padding: p, dilation: d)
        let ref = naiveConv2d(x, weight, bias, stride: s, padding: p, dilation: d)
        #expect(relativeError(y.scalars, ref.map(Float.init)) < 1e-5, "forward \(c)")
        let dy = testTensor(y.shape, seed: 17, requiresGrad: false)
        y.backward(dy)
        let expected = naiveConv2dGradients(x, weight, dy, stride: s, padding: p, dilation: d)
        #expect(relativeError(x.grad!.scalars, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
        #expect(relativeError(weight.grad!.scalars, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
        #expect(relativeError(bias.grad!.scalars, expected.db.map(Float.init)) < 1e-5, "bias gradient \(c)")
    }

    /// Float32 GEMM over at most 7*7*4 = 196 products of values in [-1, 1]: round-off stays below ~1e-5
    /// relative to the output scale, so 1e-5 catches any indexing error (which is O(1)).
    @Test(arguments: [
        // (n, cin, cout, h, w, k, stride, padding, dilation)
        (2, 3, 4, 9, 8, 3, 1, 1, 1), (3, 2, 5, 10, 11, 3, 2, 0, 1), (2, 4, 3, 7, 7, 1, 1, 0, 1),
        (2, 4, 3, 8, 9, 1, 2, 0, 1), (2, 2, 3, 12, 11, 5, 1, 2, 1), (3, 1, 4, 13, 12, 7, 2, 3, 1),
        (2, 3, 2, 11, 10, 3, 1, 2, 2), (2, 2, 3, 9, 12, 5, 2, 3, 1), (4, 3, 3, 6, 5, 3, 2, 1, 1),
        (2, 2, 2, 10, 10, 3, 2, 3, 2), (40, 3, 4, 3, 3, 3, 1, 1, 1), (2, 3, 6, 24, 24, 1, 1, 0, 1),
        (2, 2, 3, 2, 2, 5, 1, 2, 1), (3, 2, 2, 1, 4, 3, 1, 1, 1), (2, 2, 3, 40, 41, 3, 2, 1, 1),
    ])
    func forwardMatchesFloat64Reference(
        _ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)
    ) {
        let (n, cin, cout, h, w, k, s, p, d) = c
        let x = testTensor([n, cin, h, w], seed: 11, requiresGrad: false)
        let weight = testTensor([cout, cin, k, k], seed: 12, requiresGrad: false)
        let bias = testTensor([cout], seed: 13, requiresGrad: false)
        for b in [nil, bias] {
            let y = x.conv2d(weight, bias: b, stride: s, padding: p, dilation: d)
            let ref = naiveConv2d(x, weight, b, stride: s, padding: p, dilation: d)
            #expect(y.shape == [n, cout, (h + 2 * p - d * (k - 1) - 1) / s + 1, (w + 2 * p - d * (k - 1) - 1) / s + 1])
            #expect(relativeError(y.scalars, ref.map(Float.init)) < 1e-5, "case \(c)")
        }
    }

    @Test func pointwiseDirectPathMatchesReference() {
        // 1x1 stride-1 with >= 512 pixels per image takes the im2col-free path.
        let x = testTensor([2, 3, 24, 24], seed: 21, requiresGrad: true)
        let w = testTensor([4, 3, 1, 1], seed: 22, requiresGrad: true)
        let y = x.conv2d(w)
        #expect(relativeError(y.scalars, naiveConv2d(x, w, nil, stride: 1, padding: 0, dilation: 1).map(Float.init)) < 1e-5)
        // Its gradients equal those of the same conv computed through the general im2col path (padding 0 but
        // a second, zero-weighted tap would change the path); compare against finite differences instead.
        let xs = testTensor([1, 2, 23, 23], seed: 23, requiresGrad: true)
        let ws = testTensor([2, 2, 1, 1], seed: 24, requiresGrad: true)
        #expect(gradientCheckError([xs, ws]) { $0[0].conv2d($0[1]) } < 3e-3)
    }

    /// Finite differences in float32 with step 1e-2: error O(eps^2) plus round-off ~1e-7 * |f| / eps; 3e-3 is
    /// an order of magnitude above both and far below the O(1) error of a wrong gradient.
    @Test(arguments: [
        (2, 2, 3, 6, 5, 3, 1, 1, 1), (2, 2, 2, 7, 8, 3, 2, 1, 1), (2, 1, 2, 7, 7, 5, 2, 2, 1),
        (2, 2, 2, 6, 6, 1, 2, 0, 1), (2, 2, 2, 7, 6, 3, 1, 2, 2), (3, 2, 2, 2, 2, 3, 1, 1, 1),
    ])
    func gradientsMatchFiniteDifferences(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, k, s, p, d) = c
        let x = testTensor([n, cin, h, w], seed: 31)
        let weight = testTensor([cout, cin, k, k], seed: 32)
        let bias = testTensor([cout], seed: 33)
        let error = gradientCheckError([x, weight, bias]) {
            $0[0].conv2d($0[1], bias: $0[2], stride: s, padding: p, dilation: d)
        }
        #expect(error < 3e-3, "case \(c)")
    }

    @Test func onlyRequestedGradientsAreComputed() {
        let x = testTensor([2, 1, 6, 6], seed: 41, requiresGrad: false)
        let w = testTensor([3, 1, 3, 3], seed: 42)
        x.conv2d(w, padding: 1).sum().backward()
        #expect(x.grad == nil)
        #expect(w.grad?.shape == [3, 1, 3, 3])
    }

    @Test func batchedChunksAgreeWithSingleImages() {
        // Deep layers batch many images into one GEMM; each image's result must equal its own convolution.
        let x = testTensor([9, 4, 3, 3], seed: 51, requiresGrad: false)
        let w = testTensor([5, 4, 3, 3], seed: 52, requiresGrad: false)
        let y = x.conv2d(w, stride: 2, padding: 1)
        for i in 0..<9 {
            let xi = Tensor(shape: [1, 4, 3, 3], scalars: Array(x.scalars[(i * 36)..<((i + 1) * 36)]))
            let yi = xi.conv2d(w, stride: 2, padding: 1)
            #expect(relativeError(yi.scalars, Array(y.scalars[(i * yi.count)..<((i + 1) * yi.count)])) < 1e-6)
        }
    }
}

/// Runs the FFT kernels directly on raw buffers: `(y, dx, dw)` of `sum(dy * conv(x, w))` with plan `p`.
private func fftConvolution(_ p: FFTConvolutionPlan, _ x: Tensor, _ w: Tensor, _ dy: Tensor) -> ([Float], [Float], [Float]) {
    let g = p.geometry
    var y = [Float](repeating: .nan, count: g.batch * g.outputChannels * g.outputPlane)
    var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
    x.scalars.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
            dy.scalars.withUnsafeBufferPointer { dyp in
                y.withUnsafeMutableBufferPointer { FFTConvolution.forward(p, input: xp.baseAddress!, weight: wp.baseAddress!, output: $0.baseAddress!) }
                dx.withUnsafeMutableBufferPointer { dxp in
                    dw.withUnsafeMutableBufferPointer { dwp in
                        FFTConvolution.backward(p, input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: dyp.baseAddress!,
                                                gradInput: dxp.baseAddress, gradWeight: dwp.baseAddress)
                    }
                }
            }
        }
    }
    return (y, dx, dw)
}

@Suite struct FFTConvolutionTests {
    /// Tiled-FFT forward, input gradient and weight gradient against float64 sums: several tiles per axis with a
    /// partial last tile, images smaller than one transform, rectangular kernels, padding 0-3, an odd transform
    /// size, one and several images per chunk. FFT round-off is O(log T) float32 epsilons of the output scale: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, h, w, kh, kw, padding, T, imagesPerChunk)
        (2, 3, 4, 13, 11, 5, 5, 2, 16, 2), (3, 2, 3, 33, 30, 5, 5, 2, 16, 1), (2, 2, 3, 20, 17, 7, 7, 3, 16, 2),
        (2, 3, 2, 12, 10, 5, 3, 1, 8, 1), (1, 2, 2, 9, 9, 5, 5, 0, 20, 1), (3, 4, 5, 24, 26, 3, 3, 1, 10, 2),
        (2, 1, 3, 6, 7, 7, 5, 3, 12, 2), (2, 2, 3, 11, 12, 5, 5, 2, 15, 2),
    ])
    func matchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, kh, kw, p, t, chunk) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout,
                             kernelHeight: kh, kernelWidth: kw, padding: p)
        let plan = FFTConvolutionPlan(g, transformSize: t, imagesPerChunk: chunk)
        let x = testTensor([n, cin, h, w], seed: 61, requiresGrad: false)
        let weight = testTensor([cout, cin, kh, kw], seed: 62, requiresGrad: false)
        let dy = testTensor([n, cout, g.outputHeight, g.outputWidth], seed: 63, requiresGrad: false)
        let (y, dx, dw) = fftConvolution(plan, x, weight, dy)
        let expected = naiveConv2dGradients(x, weight, dy, stride: 1, padding: p, dilation: 1)
        #expect(relativeError(y, naiveConv2d(x, weight, nil, stride: 1, padding: p, dilation: 1).map(Float.init)) < 1e-5, "forward \(c)")
        #expect(relativeError(dx, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
        #expect(relativeError(dw, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
    }

    /// The cost model takes FFTs for wide 5x5 stride-1 layers (the C8 16 -> 16 regular-field layer of the
    /// benchmarks) and leaves 3x3, strided and dilated convolutions to im2col.
    @Test func automaticChoice() {
        func geometry(_ c: Int, _ size: Int, _ k: Int, stride: Int = 1, dilation: Int = 1) -> ConvGeometry {
            ConvGeometry(batch: 32, inputChannels: c, height: size, width: size, outputChannels: c, kernelHeight: k,
                         kernelWidth: k, stride: stride, padding: k / 2, dilation: dilation)
        }
        let wide = geometry(128, 64, 5)
        for cpu in [CPUFeatures.avx512Native, .avx2] {
            for pass in ConvolutionPass.allCases {
                #expect(ConvolutionRouter(cpu: cpu).kernel(for: pass, wide) == FFTConvolution.self)
            }
        }
        #expect(FFTConvolution.cheapest(wide).map { $0.estimatedSeconds < 0.3 * wide.forwardFlops / 1.8e11 } == true)
        for g in [geometry(128, 64, 3), geometry(512, 8, 3), geometry(128, 64, 5, stride: 2),
                  geometry(128, 64, 5, dilation: 2), geometry(64, 38, 7, stride: 2), geometry(1, 64, 5)] {
            #expect(!FFTConvolution.prefers(.forward, g, on: .host) || !FFTConvolution.supports(.forward, g), "\(g)")
        }
        #expect(ConvolutionRouter.host.kernel(for: .forward, geometry(8, 16, 5), algorithm: .im2col) == Im2ColConvolution.self)
        #expect(FFTConvolution.plan(for: geometry(8, 16, 5), algorithm: .fft(tileSize: 12)).tileHeight == 8)
    }

    /// A layer the cost model sends to FFTs gives, through `conv2d` and its backward pass, what the im2col
    /// kernels give (both float32; sums of 1,600 products).
    @Test func conv2dTakesTheFFTPathAndAgreesWithIm2col() {
        let g = ConvGeometry(batch: 4, inputChannels: 64, height: 64, width: 64, outputChannels: 64,
                             kernelHeight: 5, kernelWidth: 5, padding: 2)
        #expect(ConvolutionRouter.host.kernel(for: .forward, g) == FFTConvolution.self)
        let x = testTensor([4, 64, 64, 64], seed: 71), weight = testTensor([64, 64, 5, 5], seed: 72)
        let y = x.conv2d(weight, padding: 2)
        let dy = testTensor(y.shape, seed: 73, requiresGrad: false)
        y.backward(dy)
        var reference = [Float](repeating: 0, count: y.count)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: weight.count)
        x.scalars.withUnsafeBufferPointer { xp in
            weight.scalars.withUnsafeBufferPointer { wp in
                dy.scalars.withUnsafeBufferPointer { dyp in
                    reference.withUnsafeMutableBufferPointer {
                        ConvolutionRouter.host.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, geometry: g,
                                                   output: $0.baseAddress!, algorithm: .im2col)
                    }
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dw.withUnsafeMutableBufferPointer { dwp in
                            ConvolutionRouter.host.backward(input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: dyp.baseAddress!,
                                                        geometry: g, gradInput: dxp.baseAddress, gradWeight: dwp.baseAddress,
                                                        gradBias: nil, algorithm: .im2col)
                        }
                    }
                }
            }
        }
        #expect(relativeError(y.scalars, reference) < 1e-5)
        #expect(relativeError(x.grad!.scalars, dx) < 1e-5)
        #expect(relativeError(weight.grad!.scalars, dw) < 1e-5)
    }
}

@Suite struct TapConvolutionTests {
    /// Runs the conv kernels with `algorithm` on raw buffers: `(y, dx, dw)` of `sum(dy * conv(x, w))`.
    func run(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, _ x: Tensor, _ w: Tensor, _ dy: Tensor) -> ([Float], [Float], [Float]) {
        var y = [Float](repeating: .nan, count: g.batch * g.outputChannels * g.outputPlane)
        var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
        x.scalars.withUnsafeBufferPointer { xp in
            w.scalars.withUnsafeBufferPointer { wp in
                dy.scalars.withUnsafeBufferPointer { dyp in
                    y.withUnsafeMutableBufferPointer {
                        ConvolutionRouter.host.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, geometry: g,
                                                   output: $0.baseAddress!, algorithm: algorithm)
                    }
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dw.withUnsafeMutableBufferPointer { dwp in
                            ConvolutionRouter.host.backward(input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: dyp.baseAddress!,
                                                        geometry: g, gradInput: dxp.baseAddress, gradWeight: dwp.baseAddress,
                                                        gradBias: nil, algorithm: algorithm)
                        }
                    }
                }
            }
        }
        return (y, dx, dw)
    }

    /// Tap-wise products against float64 sums: 2x2 and 4x4 maps with padded 3x3 kernels (ResNet18's layers 3-4
    /// at 64x64), stride 2, dilation, a 5x5 kernel on a 3x3 map, a 1x1 map padded by 3, channel counts that split
    /// over threads, and taps that never reach the input (their weight gradient is zero). Sums of at most a few
    /// thousand float32 products: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, h, w, k, stride, padding, dilation)
        (3, 4, 5, 2, 2, 3, 1, 1, 1), (2, 3, 4, 4, 4, 3, 1, 1, 1), (2, 3, 4, 4, 5, 3, 2, 1, 1), (2, 2, 3, 3, 3, 5, 1, 2, 1),
        (2, 2, 2, 5, 4, 3, 1, 2, 2), (5, 40, 36, 2, 2, 3, 1, 1, 1), (4, 34, 48, 4, 4, 3, 2, 1, 1), (2, 3, 2, 1, 1, 3, 1, 3, 1),
        (2, 3, 2, 2, 2, 3, 2, 2, 2),
    ])
    func matchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
        let (n, cin, cout, h, w, k, s, p, d) = c
        let g = ConvGeometry(batch: n, inputChannels: cin, height: h, width: w, outputChannels: cout, kernelHeight: k,
                             kernelWidth: k, stride: s, padding: p, dilation: d)
        let x = testTensor([n, cin, h, w], seed: 81, requiresGrad: false)
        let weight = testTensor([cout, cin, k, k], seed: 82, requiresGrad: false)
        let dy = testTensor([n, cout, g.outputHeight, g.outputWidth], seed: 83, requiresGrad: false)
        let (y, dx, dw) = run(g, .taps, x, weight, dy)
        let expected = naiveConv2dGradients(x, weight, dy, stride: s, padding: p, dilation: d)
        #expect(relativeError(y, naiveConv2d(x, weight, nil, stride: s, padding: p, dilation: d).map(Float.init)) < 1e-5, "forward \(c)")
        #expect(relativeError(dx, expected.dx.map(Float.init)) < 1e-5, "input gradient \(c)")
        #expect(relativeError(dw, expected.dw.map(Float.init)) < 1e-5, "weight gradient \(c)")
    }

    /// ResNet18's layers 3-4 at 64x64 input (4x4 and 2x2 maps) and layer 4 at 150x150 (5x5) go tap-wise, 1x1
    /// downsamples included; layer 3 at 150x150 (10x10) and larger maps stay on im2col.
    @Test func automaticChoiceFollowsTheMapSize() {
        func g(_ c: Int, _ size: Int, _ k: Int, _ stride: Int) -> ConvGeometry {
            ConvGeometry(batch: 32, inputChannels: c, height: size, width: size, outputChannels: c, kernelHeight: k,
                         kernelWidth: k, stride: stride, padding: k / 2)
        }
        for geometry in [g(512, 2, 3, 1), g(256, 4, 3, 1), g(256, 4, 3, 2), g(128, 8, 3, 2), g(256, 4, 1, 2), g(512, 5, 3, 1),
                         g(256, 10, 3, 2)] {
            #expect(TapConvolution.prefers(.forward, geometry, on: .avx2), "\(geometry)")
        }
        for geometry in [g(256, 10, 3, 1), g(128, 19, 3, 2), g(64, 16, 3, 1), g(128, 19, 1, 2)] {
            #expect(!TapConvolution.prefers(.forward, geometry, on: .avx2), "\(geometry)")
        }
    }

    /// The same layer through `conv2d` (automatic: tap-wise) and forced im2col agree.
    @Test func conv2dOnSmallMapsAgreesWithIm2col() {
        let g = ConvGeometry(batch: 8, inputChannels: 64, height: 2, width: 2, outputChannels: 64, kernelHeight: 3,
                             kernelWidth: 3, padding: 1)
        let x = testTensor([8, 64, 2, 2], seed: 91), w = testTensor([64, 64, 3, 3], seed: 92)
        let dy = testTensor([8, 64, 2, 2], seed: 93, requiresGrad: false)
        let y = x.conv2d(w, padding: 1)
        y.backward(dy)
        let (ref, dx, dw) = run(g, .im2col, x, w, dy)
        #expect(relativeError(y.scalars, ref) < 1e-5)
        #expect(relativeError(x.grad!.scalars, dx) < 1e-5)
        #expect(relativeError(w.grad!.scalars, dw) < 1e-5)
    }
}
