import Foundation

/// Batched 2-D convolution (cross-correlation, as in PyTorch) on raw NCHW buffers: im2col + OpenBLAS sgemm.
///
/// Two schedules, both deterministic for a fixed thread count:
/// - per-thread pipelines (the usual training case): each compute thread owns a contiguous range of images and
///   runs im2col -> single-threaded GEMM (-> col2im) on tiles of about 2 MiB of columns, so the
///   columns it unrolls are still in its own cache when its GEMM reads them, with no barrier in between; a tile
///   is a band of output rows of one image (written in place with `ldc = Ho * Wo`), or several whole small
///   images side by side so that deep layers still get at least `minimumTileColumns` GEMM columns.
///   Weight gradients accumulate per thread and are summed at the end.
/// - shared chunks (fewer images than threads, e.g. single-image inference): im2col of a chunk of images split over the
///   threads, then one GEMM split over the threads by `Gemm.multiply`.
/// 1x1 stride-1 convolutions with large images skip im2col entirely; large stride-1 kernels may go to
/// `FFTConvolution`, small maps to `TapConvolution`, and in native AVX-512 builds forwards of kernels larger than 1x1
/// to `DirectConvolution` (also stride-1 input gradients), strided or padded 1x1 forwards to `PointwiseConvolution`,
/// weight gradients on maps of 4x4 and larger to `DirectWeightGradient` and the stem's to `FewChannelWeightGradient`
/// (see `ConvAlgorithm`).
///
/// Shapes: input `[N, Cin, H, W]`, weight `[Cout, Cin, kh, kw]` (row-major, i.e. `[Cout, patchSize]`),
/// bias `[Cout]`, output `[N, Cout, Ho, Wo]`.
public enum ConvolutionKernels {
    /// Floats of one per-thread column tile (2 MiB; measured best among 0.25-8 MiB on the ResNet18 shapes).
    static let tileBudget = 1 << 19
    /// GEMMs narrower than this lose efficiency; tiles grow past the budget to reach it.
    static let minimumTileColumns = 256
    /// Upper bound on the floats of one shared im2col chunk (16 MiB: it stays in the 32 MiB L3 cache).
    static let chunkBudget = 1 << 22
    /// Pointwise convolutions with at least this many pixels per image multiply each image directly.
    static let pointwiseDirectPlane = 512

    /// `DEEPLENSE_CONV_SCHEDULE=pipelines|shared` forces one schedule (for benchmarking the two against each other).
    static let forcedSchedule: String? = {
        guard let value = getenv("DEEPLENSE_CONV_SCHEDULE") else { return nil }
        return String(cString: value)
    }()

    /// How a thread cuts its images into tiles: `images` whole images at once, or bands of `rows` output rows.
    struct Tiling {
        let images: Int
        let rows: Int
    }

    static func tiling(_ g: ConvGeometry, imagesPerThread: Int, weightGradientOnly: Bool = false) -> Tiling {
        let perRow = g.patchSize * g.outputWidth, perImage = perRow * g.outputHeight
        if weightGradientOnly && perImage <= tileBudget {
            // dW = dY col^T alone: the deeper each product, the fewer times dW is read and written
            return Tiling(images: max(1, min(imagesPerThread, tileBudget / perImage)), rows: g.outputHeight)
        }
        if perImage > tileBudget {
            let rows = max(tileBudget / perRow, (minimumTileColumns + g.outputWidth - 1) / g.outputWidth)
            return Tiling(images: 1, rows: min(g.outputHeight, max(1, rows)))
        }
        if g.outputPlane >= minimumTileColumns {
            return Tiling(images: 1, rows: g.outputHeight)  // wide enough alone; no staging copy of the output
        }
        let byBudget = tileBudget / perImage
        let byWidth = (minimumTileColumns + g.outputPlane - 1) / g.outputPlane
        return Tiling(images: max(1, min(imagesPerThread, max(byBudget, byWidth))), rows: g.outputHeight)
    }

    /// Whether the per-thread schedule applies: at least one image per thread. Backward also needs
    /// `minimumTileColumns` pixels per thread: with fewer (layer4 at 64x64 input: 64), each thread's partial
    /// weight gradient (up to 512 x 4608 floats) costs as much memory traffic as its GEMM, and one GEMM split
    /// over the threads writes it once instead.
    static func usesPerThreadPipelines(_ g: ConvGeometry, backward: Bool = false) -> Bool {
        if let forced = forcedSchedule { return forced == "pipelines" }
        let threads = ComputeThreads.count
        guard threads > 1 && g.batch >= threads else { return false }
        return !backward || (g.batch / threads) * g.outputPlane >= minimumTileColumns
    }

    /// Images per shared GEMM chunk: as many as fit the chunk budget, at least one.
    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        max(1, min(g.batch, chunkBudget / max(1, g.patchSize * g.outputPlane)))
    }

    /// `output = conv(input, weight) + bias`. `output` may be uninitialised; it is fully written.
    /// `algorithm` picks the method (`ConvAlgorithm.automatic`: FFTs for stride-1 kernels of 5x5 and larger when
    /// cheaper, then the direct kernel, tap-wise products on small maps, im2col).
    public static func forward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        geometry g: ConvGeometry, output: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm = .automatic
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        if let plan = FFTConvolution.plan(for: g, algorithm: algorithm) {
            FFTConvolution.forward(plan, input: input, weight: weight, output: output)
        } else if usesPointwise(g, algorithm) {
            PointwiseConvolution.forward(input: input, weight: weight, geometry: g, output: output)
        } else if usesDirect(g, algorithm) {
            DirectConvolution.forward(input: input, weight: weight, geometry: g, output: output)
        } else if usesTaps(g, algorithm) {
            TapConvolution.forward(input: input, weight: weight, geometry: g, output: output)
        } else if g.isPointwise && plane >= pointwiseDirectPlane {
            for n in 0..<g.batch {
                Gemm.multiply(m: cout, n: plane, k: k, a: weight, lda: k, b: input + n * k * plane, ldb: plane,
                              c: output + n * cout * plane, ldc: plane)
            }
        } else if usesPerThreadPipelines(g) {
            let threads = ComputeThreads.count
            parallelFor(threads) { t in
                let images = (g.batch * t / threads)..<(g.batch * (t + 1) / threads)
                forwardPipeline(input: input, weight: weight, geometry: g, images: images, output: output)
            }
        } else {
            forwardShared(input: input, weight: weight, geometry: g, output: output)
        }
        if let bias {
            parallelFor(g.batch * cout, minimumChunk: 8) { item in
                let b = bias[item % cout]
                let p = output + item * plane
                for i in 0..<plane { p[i] += b }
            }
        }
    }

    /// The routing rule the specialised kernels share: `algorithm == kernel` forces the kernel where `supported`;
    /// `.automatic` follows `DEEPLENSE_CONV_ALGORITHM` when it names a method and `automaticChoice` otherwise.
    static func routes(_ algorithm: ConvAlgorithm, to kernel: ConvAlgorithm, supported: Bool,
                       automaticChoice: () -> Bool) -> Bool {
        guard supported else { return false }
        if algorithm == kernel { return true }
        guard algorithm == .automatic else { return false }
        switch FFTConvolution.forcedAlgorithm {
        case "direct": return kernel == .direct
        case "taps": return kernel == .taps
        case "im2col", "fft": return false
        default: return automaticChoice()
        }
    }

    /// Whether `algorithm` sends `g`'s forward to `DirectConvolution`.
    static func usesDirect(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .direct, supported: g.batch > 0) { DirectConvolution.applies(to: g) }
    }

    /// Whether `algorithm` sends `g`'s forward to `PointwiseConvolution` (1x1 kernels; `.direct` forces it).
    static func usesPointwise(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .direct, supported: g.batch > 0 && g.kernelHeight == 1 && g.kernelWidth == 1) {
            PointwiseConvolution.applies(to: g)
        }
    }

    /// Whether `algorithm` sends the input gradient of `g` to `DirectConvolution.inputGradient` (stride 1 only).
    static func usesDirectInputGradient(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .direct, supported: g.batch > 0 && DirectConvolution.supportsInputGradient(g)) {
            DirectConvolution.applies(to: DirectConvolution.inputGradientGeometry(g))
        }
    }

    /// Whether `algorithm` sends the weight gradient of `g` to `FewChannelWeightGradient` (stems).
    static func usesFewChannelWeightGradient(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .direct, supported: FewChannelWeightGradient.supports(g)) {
            FewChannelWeightGradient.applies(to: g)
        }
    }

    /// Whether `algorithm` sends the weight gradient of `g` to `DirectWeightGradient` (few-channel geometries go to
    /// `FewChannelWeightGradient`).
    static func usesDirectWeightGradient(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .direct, supported: g.batch > 0 && !FewChannelWeightGradient.supports(g)) {
            DirectWeightGradient.applies(to: g)
        }
    }

    /// Whether `algorithm` sends `g` to `TapConvolution`.
    static func usesTaps(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Bool {
        routes(algorithm, to: .taps, supported: g.batch > 0) { TapConvolution.applies(to: g) }
    }

    /// One thread's forward over `images`, tile by tile, with single-threaded GEMMs.
    private static func forwardPipeline(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry, images: Range<Int>,
        output: UnsafeMutablePointer<Float>
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane, wo = g.outputWidth
        let tile = tiling(g, imagesPerThread: images.count)
        let tileColumns = tile.images * tile.rows * wo
        ScratchPool.withBuffer(count: k * tileColumns + (tile.images > 1 ? cout * tileColumns : 0)) { work in
            let columns = work, staging = work + k * tileColumns
            var b = images.lowerBound
            while b < images.upperBound {
                if tile.images == 1 {
                    var r0 = 0
                    while r0 < g.outputHeight {
                        let rows = r0..<min(r0 + tile.rows, g.outputHeight), width = rows.count * wo
                        Im2Col.unfold(input, g, image: b, rows: rows, into: columns, ld: width)
                        Gemm.multiply(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width,
                                      c: output + b * cout * plane + r0 * wo, ldc: plane, parallel: false)
                        r0 = rows.upperBound
                    }
                    b += 1
                } else {
                    let count = min(tile.images, images.upperBound - b), width = count * plane
                    for j in 0..<count {
                        Im2Col.unfold(input, g, image: b + j, rows: 0..<g.outputHeight, into: columns + j * plane, ld: width)
                    }
                    Gemm.multiply(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width,
                                  c: staging, ldc: width, parallel: false)
                    for j in 0..<count {
                        for c in 0..<cout {
                            VectorMath.copy(output + ((b + j) * cout + c) * plane, staging + c * width + j * plane, plane)
                        }
                    }
                    b += count
                }
            }
        }
    }

    /// Forward with im2col of image chunks split over threads and GEMMs split by `Gemm.multiply`.
    private static func forwardShared(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
        output: UnsafeMutablePointer<Float>
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        let chunk = imagesPerChunk(g)
        let columnCount = k * chunk * plane
        ScratchPool.withBuffer(count: columnCount + (chunk > 1 ? cout * chunk * plane : 0)) { work in
            let columns = work, staging = work + columnCount
            var first = 0
            while first < g.batch {
                let count = min(chunk, g.batch - first), width = count * plane
                Im2Col.unfoldImagesInParallel(input, g, first: first, count: count, into: columns)
                let target = count == 1 ? output + first * cout * plane : staging
                Gemm.multiply(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width, c: target, ldc: width)
                if count > 1 {
                    scatterChunk(staging, into: output, firstImage: first, imageCount: count, channels: cout, plane: plane)
                }
                first += count
            }
        }
    }

    /// `[Cout, chunk * plane]` -> images `first ..< first + chunk` of `[N, Cout, plane]`.
    static func scatterChunk(
        _ staging: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        firstImage: Int, imageCount: Int, channels: Int, plane: Int
    ) {
        let width = imageCount * plane
        parallelFor(imageCount * channels, minimumChunk: 16) { item in
            let b = item / channels, c = item - b * channels
            VectorMath.copy(output + ((firstImage + b) * channels + c) * plane, staging + c * width + b * plane, plane)
        }
    }

    /// Images `first ..< first + chunk` of `[N, Cout, plane]` -> `[Cout, chunk * plane]`.
    static func gatherChunk(
        _ source: UnsafePointer<Float>, into staging: UnsafeMutablePointer<Float>,
        firstImage: Int, imageCount: Int, channels: Int, plane: Int
    ) {
        let width = imageCount * plane
        parallelFor(imageCount * channels, minimumChunk: 16) { item in
            let b = item / channels, c = item - b * channels
            VectorMath.copy(staging + c * width + b * plane, source + ((firstImage + b) * channels + c) * plane, plane)
        }
    }
}
