import CBLAS
import Foundation

/// The tiling of one FFT convolution: `T x T` real transforms (`F = T (T/2 + 1)` frequencies) over input patches
/// taken every `tileHeight x tileWidth` output pixels, `tileHeight = T - kh + 1` (likewise across).
struct FFTConvolutionPlan: Hashable, Sendable {
    let geometry: ConvGeometry
    let transformSize: Int
    let tileHeight: Int
    let tileWidth: Int
    let tilesY: Int
    let tilesX: Int
    /// Images whose spectra are held at once (bounds the scratch memory; results do not depend on it).
    let imagesPerChunk: Int

    /// - Parameters:
    ///   - transformSize: `T`, larger than the kernel; sizes with factors 2, 3, 5 only are fastest.
    ///   - imagesPerChunk: nil for as many as fit `FFTConvolution.chunkBytes` of spectra.
    init(_ g: ConvGeometry, transformSize t: Int, imagesPerChunk: Int? = nil) {
        precondition(t > max(g.kernelHeight, g.kernelWidth) - 1,
                     "FFT convolution: transform size \(t) is smaller than the \(g.kernelHeight)x\(g.kernelWidth) kernel")
        geometry = g
        transformSize = t
        tileHeight = t - g.kernelHeight + 1
        tileWidth = t - g.kernelWidth + 1
        tilesY = (g.outputHeight + tileHeight - 1) / tileHeight
        tilesX = (g.outputWidth + tileWidth - 1) / tileWidth
        let perImage = 8 * t * (t / 2 + 1) * tilesY * tilesX * (g.inputChannels + g.outputChannels)
        self.imagesPerChunk = max(1, min(g.batch, imagesPerChunk ?? FFTConvolution.chunkBytes / max(1, perImage)))
    }

    var tilesPerImage: Int { tilesY * tilesX }
    var halfWidth: Int { transformSize / 2 + 1 }
    /// Frequencies of one transform: `T (T/2 + 1)`.
    var frequencies: Int { transformSize * halfWidth }
    var patchFloats: Int { transformSize * transformSize }

    /// Estimated single-thread seconds of a forward pass: one complex GEMM per frequency plus the transforms
    /// (input and output patches, filters), with rates measured on the development machine (AVX-512 OpenBLAS
    /// cgemm about 200 GFLOP/s per core; FFTW about 0.12 ns per `n log2 n` point for these sizes).
    var estimatedSeconds: Double {
        let g = geometry
        let columns = Double(g.batch * tilesPerImage), cin = Double(g.inputChannels), cout = Double(g.outputChannels)
        let gemm = 8 * Double(frequencies) * cin * cout * columns / 2e11
        let points = Double(patchFloats)
        let transforms = columns * (cin + cout) + cin * cout
        return gemm + transforms * 1.2e-10 * points * log2(points)
    }
}

/// Stride-1 convolution by tiled real FFTs and one complex GEMM per frequency (Mathieu, Henaff & LeCun 2014,
/// "Fast training of convolutional networks through FFTs"; overlap-save tiling as in Vasilache et al. 2015,
/// "Fast convolutional nets with fbfft").
///
/// The zero-padded input is cut into `T x T` patches every `t = T - k + 1` output pixels. With `X_f` the patch
/// spectra (`[Cin x patches]` per frequency `f`) and `W_f` the filter spectra, the output spectra are
/// `Y_f = conj(W_f)^T X_f`; the first `t x t` pixels of a patch's inverse transform are its outputs (the circular
/// correlation does not wrap there). The gradients are the adjoint steps: `dX_f = W_f dY_f` followed by an
/// overlap-add of the patches, and `conj(dW_f) = sum over patches of dY_f X_f^H`, whose inverse transform read
/// backwards is `dW`. Real multiplications per output pixel and channel pair: `8 F / t^2` against `2 k^2` for
/// im2col (5x5 with `T = 20`: 6.9 against 50).
///
/// Spectra are interleaved complex in the layout `[F][channel][patch]` (rows padded to an even length so every
/// transform's base address keeps FFTW's alignment), so FFTW writes them where the GEMMs read them. Images are
/// processed in chunks of at most `chunkBytes` of spectra. Each GEMM runs on one thread and each transform is done
/// by one thread, so results do not depend on the thread count.
enum FFTConvolution {
    /// Transform sizes the cost model considers (2- and 5-smooth: FFTW's fastest).
    static let candidateSizes = [16, 20, 32, 40, 64]
    /// Spectra memory per chunk of images (bytes).
    static let chunkBytes = 96 << 20
    /// im2col + GEMM single-thread rate the cost model compares against (GFLOP/s measured on ResNet shapes).
    static let im2colFlopsPerSecond = 1.8e11

    /// Whether the FFT algorithm can run `g` at all.
    static func supportsGeometry(_ g: ConvGeometry) -> Bool {
        g.stride == 1 && g.dilation == 1
    }

    /// The candidate transform size with the lowest estimated cost.
    static func cheapest(_ g: ConvGeometry) -> FFTConvolutionPlan? {
        candidateSizes.filter { $0 >= max(g.kernelHeight, g.kernelWidth) + 3 }
            .map { FFTConvolutionPlan(g, transformSize: $0) }
            .min { $0.estimatedSeconds < $1.estimatedSeconds }
    }

    // MARK: Forward

    /// `output = conv(input, weight)` (no bias), `output` fully written. Shapes as in `ConvolutionKernel`.
    static func forward(
        _ p: FFTConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let g = p.geometry, cin = g.inputChannels, cout = g.outputChannels, f = p.frequencies
        let chunk = p.imagesPerChunk, maxColumns = even(chunk * p.tilesPerImage), ldo = even(cout)
        ScratchPool.withBuffer(count: 2 * f * (cin * ldo + maxColumns * (cin + cout))) { work in
            let filters = work, inputs = work + 2 * f * cin * ldo, outputs = inputs + 2 * f * cin * maxColumns
            filterSpectra(p, weight: weight, into: filters)
            var first = 0
            while first < g.batch {
                let images = first..<min(first + chunk, g.batch), columns = images.count * p.tilesPerImage
                let ld = even(columns)
                patchSpectra(p, planes: input, channels: cin, images: images, origin: -g.padding, extent: p.transformSize, size: (g.height, g.width), into: inputs)
                perFrequencyGemm(f) { k in
                    // Y_f [Cout x cols] = W_f^H [Cout x Cin] * X_f [Cin x cols], W_f stored [Cin x Cout]
                    complexGemm(.conjugateTranspose, .none, m: cout, n: columns, k: cin,
                                a: filters + 2 * k * cin * ldo, lda: ldo, b: inputs + 2 * k * cin * ld, ldb: ld,
                                beta: 0, c: outputs + 2 * k * cout * ld, ldc: ld)
                }
                inverseToPatches(p, spectra: outputs, channels: cout, columns: columns) { o, patches in
                    cropOutputs(p, patches: patches, images: images, channel: o, into: output)
                }
                first = images.upperBound
            }
        }
    }

    // MARK: Backward

    /// Gradients of `sum(gradOutput * conv(input, weight))` for the non-nil destinations (overwritten).
    static func backward(
        _ p: FFTConvolutionPlan, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>?,
        gradWeight: UnsafeMutablePointer<Float>?
    ) {
        guard gradInput != nil || gradWeight != nil else { return }
        let g = p.geometry, cin = g.inputChannels, cout = g.outputChannels, f = p.frequencies
        let chunk = p.imagesPerChunk, maxColumns = even(chunk * p.tilesPerImage)
        let ldo = even(cout), ldi = even(cin), weightSpectra = 2 * f * max(cin * ldo, cout * ldi)
        ScratchPool.withBuffer(count: 2 * weightSpectra + 2 * f * maxColumns * (cin + cout)) { work in
            let filters = work, accumulated = work + weightSpectra
            let gradients = accumulated + weightSpectra, inputs = gradients + 2 * f * cout * maxColumns
            if gradInput != nil { filterSpectra(p, weight: weight, into: filters) }
            gradInput?.update(repeating: 0, count: g.batch * cin * g.inputPlane)
            var first = 0
            while first < g.batch {
                let images = first..<min(first + chunk, g.batch), columns = images.count * p.tilesPerImage
                let ld = even(columns)
                // dY patches: the t x t outputs of each tile at the top-left of a zero T x T patch.
                patchSpectra(p, planes: gradOutput, channels: cout, images: images, origin: 0,
                             extent: p.tileHeight, extentX: p.tileWidth,
                             size: (g.outputHeight, g.outputWidth), into: gradients)
                if let gradInput {
                    perFrequencyGemm(f) { k in
                        // dX_f [Cin x cols] = W_f [Cin x Cout] * dY_f [Cout x cols]
                        complexGemm(.none, .none, m: cin, n: columns, k: cout,
                                    a: filters + 2 * k * cin * ldo, lda: ldo,
                                    b: gradients + 2 * k * cout * ld, ldb: ld,
                                    beta: 0, c: inputs + 2 * k * cin * ld, ldc: ld)
                    }
                    inverseToPatches(p, spectra: inputs, channels: cin, columns: columns) { c, patches in
                        overlapAdd(p, patches: patches, images: images, channel: c, into: gradInput)
                    }
                }
                if gradWeight != nil {
                    patchSpectra(p, planes: input, channels: cin, images: images, origin: -g.padding,
                                 extent: p.transformSize, size: (g.height, g.width),
                                 into: inputs)
                    let beta: Float = first == 0 ? 0 : 1
                    perFrequencyGemm(f) { k in
                        // conj(dW_f) [Cout x Cin] += dY_f [Cout x cols] * X_f^H [cols x Cin]
                        complexGemm(.none, .conjugateTranspose, m: cout, n: cin, k: columns,
                                    a: gradients + 2 * k * cout * ld, lda: ld,
                                    b: inputs + 2 * k * cin * ld, ldb: ld,
                                    beta: beta, c: accumulated + 2 * k * cout * ldi, ldc: ldi)
                    }
                }
                first = images.upperBound
            }
            if let gradWeight { weightsFromSpectra(p, spectra: accumulated, into: gradWeight) }
        }
    }

    // MARK: Transforms

    /// The r2c plan writing `count` patches (`T x T`, contiguous) to the frequency-major layout with
    /// `frequencyStride` complex values between frequencies and adjacent patches adjacent.
    static func forwardPlan(_ p: FFTConvolutionPlan, count: Int, frequencyStride s: Int) -> FFTPlan {
        let t = p.transformSize
        return FFTPlanCache.shared.plan(for: FFTDescriptor(
            kind: .realToComplex,
            dimensions: [FFTAxis(count: t, inputStride: t, outputStride: p.halfWidth * s),
                         FFTAxis(count: t, inputStride: 1, outputStride: s)],
            batch: [FFTAxis(count: count, inputStride: t * t, outputStride: 1)]))
    }

    /// The c2r plan reading `count` spectra from the frequency-major layout into contiguous `T x T` patches.
    static func inversePlan(_ p: FFTConvolutionPlan, count: Int, frequencyStride s: Int) -> FFTPlan {
        let t = p.transformSize
        return FFTPlanCache.shared.plan(for: FFTDescriptor(
            kind: .complexToReal,
            dimensions: [FFTAxis(count: t, inputStride: p.halfWidth * s, outputStride: t),
                         FFTAxis(count: t, inputStride: s, outputStride: 1)],
            batch: [FFTAxis(count: count, inputStride: 1, outputStride: t * t)]))
    }

    /// Filter spectra `[F][Cin][even(Cout)]` of `weight` `[Cout, Cin, kh, kw]`, each kernel at the top-left of a
    /// zero patch.
    static func filterSpectra(_ p: FFTConvolutionPlan, weight: UnsafePointer<Float>, into spectra: UnsafeMutablePointer<Float>) {
        let g = p.geometry, cin = g.inputChannels, cout = g.outputChannels, t = p.transformSize, ldo = even(cout)
        let kh = g.kernelHeight, kw = g.kernelWidth
        let plan = forwardPlan(p, count: cout, frequencyStride: cin * ldo)
        parallelChunks(cin) { inputs in
            ScratchPool.withBuffer(count: cout * p.patchFloats) { patches in
                for c in inputs {
                    patches.update(repeating: 0, count: cout * p.patchFloats)
                    for o in 0..<cout {
                        let kernel = weight + (o * cin + c) * kh * kw, patch = patches + o * p.patchFloats
                        for r in 0..<kh { (patch + r * t).update(from: kernel + r * kw, count: kw) }
                    }
                    plan.execute(input: patches, output: spectra + 2 * c * ldo)
                }
            }
        }
    }

    /// Spectra `[F][channels][images x tiles]` of the patches of `planes` (`[N, channels, size]`): patch `(ty, tx)`
    /// holds the `extent x extentX` pixels from `(ty * tileH + origin, tx * tileW + origin)` (zero outside the
    /// plane) at the top-left of a zero `T x T` patch.
    static func patchSpectra(
        _ p: FFTConvolutionPlan, planes: UnsafePointer<Float>, channels: Int, images: Range<Int>, origin: Int,
        extent: Int, extentX: Int? = nil, size: (Int, Int), into spectra: UnsafeMutablePointer<Float>
    ) {
        let t = p.transformSize, columns = images.count * p.tilesPerImage
        let (height, width) = size, extentY = extent, extentX = extentX ?? extent
        let plan = forwardPlan(p, count: columns, frequencyStride: channels * even(columns))
        parallelChunks(channels) { range in
            ScratchPool.withBuffer(count: columns * p.patchFloats) { patches in
                for c in range {
                    forEachPatch(p, images: images, in: patches) { n, tileY, tileX, patch in
                        let plane = planes + (n * channels + c) * height * width
                        patch.update(repeating: 0, count: p.patchFloats)
                        let y0 = tileY + origin, x0 = tileX + origin
                        let lo = max(0, -x0), hi = min(extentX, width - x0)
                        guard hi > lo else { return }
                        for r in max(0, -y0)..<max(max(0, -y0), min(extentY, height - y0)) {
                            (patch + r * t + lo).update(from: plane + (y0 + r) * width + x0 + lo, count: hi - lo)
                        }
                    }
                    plan.execute(input: patches, output: spectra + 2 * c * even(columns))
                }
            }
        }
    }

    /// Inverse-transforms every channel's patches of `spectra` (`[F][channels][columns]`, clobbered) and hands
    /// `(channel, patches)` to `body`, one channel at a time per thread; patches are unnormalised (`T^2` times).
    static func inverseToPatches(
        _ p: FFTConvolutionPlan, spectra: UnsafeMutablePointer<Float>, channels: Int, columns: Int,
        _ body: (Int, UnsafePointer<Float>) -> Void
    ) {
        let plan = inversePlan(p, count: columns, frequencyStride: channels * even(columns))
        parallelChunks(channels) { range in
            ScratchPool.withBuffer(count: columns * p.patchFloats) { patches in
                for c in range {
                    plan.execute(input: spectra + 2 * c * even(columns), output: patches)
                    body(c, patches)
                }
            }
        }
    }

    /// Calls `body(image, y0, x0, patch)` for every patch of `images` (stored image by image, tiles row-major,
    /// `T x T` floats each), with `(y0, x0)` the output pixel where the patch's tile starts.
    @inline(__always)
    static func forEachPatch(_ p: FFTConvolutionPlan, images: Range<Int>, in patches: UnsafeMutablePointer<Float>,
                             _ body: (Int, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        for (j, n) in images.enumerated() {
            for ty in 0..<p.tilesY {
                for tx in 0..<p.tilesX {
                    body(n, ty * p.tileHeight, tx * p.tileWidth,
                         patches + (j * p.tilesPerImage + ty * p.tilesX + tx) * p.patchFloats)
                }
            }
        }
    }

    /// Writes the valid `tileH x tileW` corner of each patch (scaled by `1/T^2`) to `output` `[N, Cout, Ho, Wo]`.
    static func cropOutputs(
        _ p: FFTConvolutionPlan, patches: UnsafePointer<Float>, images: Range<Int>, channel o: Int,
        into output: UnsafeMutablePointer<Float>
    ) {
        let g = p.geometry, t = p.transformSize, ho = g.outputHeight, wo = g.outputWidth
        let scale = 1 / Float(p.patchFloats)
        forEachPatch(p, images: images, in: UnsafeMutablePointer(mutating: patches)) { n, y0, x0, patch in
            let plane = output + (n * g.outputChannels + o) * ho * wo
            let rows = min(p.tileHeight, ho - y0), cols = min(p.tileWidth, wo - x0)
            for r in 0..<rows {
                let src = patch + r * t, dst = plane + (y0 + r) * wo + x0
                for i in 0..<cols { dst[i] = src[i] * scale }
            }
        }
    }

    /// Adds each patch (scaled by `1/T^2`) back at its place in `gradInput` `[N, Cin, H, W]`, dropping padding.
    static func overlapAdd(
        _ p: FFTConvolutionPlan, patches: UnsafePointer<Float>, images: Range<Int>, channel c: Int,
        into gradInput: UnsafeMutablePointer<Float>
    ) {
        let g = p.geometry, t = p.transformSize, h = g.height, w = g.width
        let scale = 1 / Float(p.patchFloats)
        forEachPatch(p, images: images, in: UnsafeMutablePointer(mutating: patches)) { n, tileY, tileX, patch in
            let plane = gradInput + (n * g.inputChannels + c) * h * w
            let y0 = tileY - g.padding, x0 = tileX - g.padding
            let lo = max(0, -x0), hi = min(t, w - x0)
            guard hi > lo else { return }
            for r in max(0, -y0)..<max(max(0, -y0), min(t, h - y0)) {
                let src = patch + r * t, dst = plane + (y0 + r) * w + x0
                for i in lo..<hi { dst[i] += src[i] * scale }
            }
        }
    }

    /// `dW[o][c][u] = (1/T^2) c2r(G[.][o][c])(-u mod T)` from `G = conj(dW_f)` stored `[F][Cout][even(Cin)]`
    /// (clobbered).
    static func weightsFromSpectra(_ p: FFTConvolutionPlan, spectra: UnsafeMutablePointer<Float>,
                                   into gradWeight: UnsafeMutablePointer<Float>) {
        let g = p.geometry, cin = g.inputChannels, cout = g.outputChannels, t = p.transformSize
        let kh = g.kernelHeight, kw = g.kernelWidth, scale = 1 / Float(p.patchFloats)
        let ldi = even(cin), plan = inversePlan(p, count: cin, frequencyStride: cout * ldi)
        parallelChunks(cout) { outputs in
            ScratchPool.withBuffer(count: cin * p.patchFloats) { patches in
                for o in outputs {
                    plan.execute(input: spectra + 2 * o * ldi, output: patches)
                    for c in 0..<cin {
                        let patch = patches + c * p.patchFloats, kernel = gradWeight + (o * cin + c) * kh * kw
                        for u in 0..<kh {
                            let row = patch + ((t - u) % t) * t
                            for v in 0..<kw { kernel[u * kw + v] = row[(t - v) % t] * scale }
                        }
                    }
                }
            }
        }
    }

    /// `n` rounded up to even: channel rows of `n` complex values then start 16-byte aligned, as FFTW's plans need.
    @inline(__always)
    static func even(_ n: Int) -> Int { (n + 1) & ~1 }

    // MARK: Complex GEMM

    enum ComplexOperation { case none, conjugateTranspose }

    /// Runs `body(f)` for every frequency, the frequencies split over the compute threads.
    static func perFrequencyGemm(_ frequencies: Int, _ body: (Int) -> Void) {
        _ = Gemm.configured
        parallelFor(frequencies) { body($0) }
    }

    /// Row-major single-threaded `C = op(A) op(B) + beta C` on interleaved complex floats (leading dimensions in
    /// complex elements).
    static func complexGemm(
        _ opA: ComplexOperation, _ opB: ComplexOperation, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        var one: (Float, Float) = (1, 0), betaValue: (Float, Float) = (beta, 0)
        let ta = opA == .none ? CblasNoTrans : CblasConjTrans, tb = opB == .none ? CblasNoTrans : CblasConjTrans
        withUnsafePointer(to: &one) { alpha in
            withUnsafePointer(to: &betaValue) { betaPointer in
                cblas_cgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                            betaPointer, c, Int32(ldc))
            }
        }
    }
}

extension FFTConvolution: ConvolutionKernel {
    static let family = ConvolutionFamily.fft

    /// Stride 1, dilation 1, kernels smaller than the largest candidate transform.
    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool {
        supportsGeometry(g) && g.batch > 0 && cheapest(g) != nil
    }

    /// Kernels of 5x5 and larger where the cost model estimates the FFTs at least 2x cheaper than im2col at
    /// `im2colFlopsPerSecond` (the same choice for every pass).
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        guard g.kernelHeight * g.kernelWidth >= 25, let best = cheapest(g) else { return false }
        return best.estimatedSeconds < 0.5 * g.forwardFlops / im2colFlopsPerSecond
    }

    /// The plan `algorithm` asks for: its transform size, or the cheapest.
    static func plan(for g: ConvGeometry, algorithm: ConvAlgorithm) -> FFTConvolutionPlan {
        if case .fft(let size?) = algorithm { return FFTConvolutionPlan(g, transformSize: size) }
        return cheapest(g)!
    }

    /// The forward with the cheapest plan.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>) {
        forward(input: input, weight: weight, geometry: g, output: output, algorithm: .automatic)
    }

    /// The backward with the cheapest plan.
    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?) {
        backward(input: input, weight: weight, gradOutput: gradOutput, geometry: g, gradInput: gradInput,
                 gradWeight: gradWeight, algorithm: .automatic)
    }

    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm) {
        forward(plan(for: g, algorithm: algorithm), input: input, weight: weight, output: output)
    }

    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?, algorithm: ConvAlgorithm) {
        backward(plan(for: g, algorithm: algorithm), input: input, weight: weight, gradOutput: gradOutput,
                 gradInput: gradInput, gradWeight: gradWeight)
    }
}
