import Foundation

/// Batched 2-D convolution (cross-correlation, as in PyTorch) on raw NCHW buffers: im2col + OpenBLAS sgemm, the
/// kernel `ConvolutionRouter` falls back to for every geometry and pass.
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
/// 1x1 stride-1 convolutions with large images skip im2col entirely.
///
/// Shapes: input `[N, Cin, H, W]`, weight `[Cout, Cin, kh, kw]` (row-major, i.e. `[Cout, patchSize]`),
/// output `[N, Cout, Ho, Wo]`.
enum Im2ColConvolution: ConvolutionKernel {
    static let family = ConvolutionFamily.im2col

    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool { true }

    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool { true }

    /// Floats of one per-thread column tile (2 MiB; measured best among 0.25-8 MiB on the ResNet18 shapes).
    static let tileBudget = 1 << 19
    /// GEMMs narrower than this lose efficiency; tiles grow past the budget to reach it.
    static let minimumTileColumns = 256
    /// Upper bound on the floats of one shared im2col chunk (16 MiB: it stays in the 32 MiB L3 cache).
    static let chunkBudget = 1 << 22
    /// Pointwise convolutions with at least this many pixels per image multiply each image directly.
    static let pointwiseDirectPlane = 512

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
        if let forced = ConvolutionOverrides.environment.schedule { return forced == .pipelines }
        let threads = ComputeThreads.count
        guard threads > 1 && g.batch >= threads else { return false }
        return !backward || (g.batch / threads) * g.outputPlane >= minimumTileColumns
    }

    /// Images per shared GEMM chunk: as many as fit the chunk budget, at least one.
    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        max(1, min(g.batch, chunkBudget / max(1, g.patchSize * g.outputPlane)))
    }

    /// `output = conv(input, weight)` (no bias); `output` may be uninitialised, it is fully written.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        if g.isPointwise && plane >= pointwiseDirectPlane {
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
        forEachImageChunk(g) { first, count, columns, staging in
            let width = count * plane
            Im2Col.unfoldImagesInParallel(input, g, first: first, count: count, into: columns)
            let target = count == 1 ? output + first * cout * plane : staging
            Gemm.multiply(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width, c: target, ldc: width)
            if count > 1 {
                scatterChunk(staging, into: output, firstImage: first, imageCount: count, channels: cout, plane: plane)
            }
        }
    }

    /// Runs `body(first, count, columns, staging)` over the batch in order, `imagesPerChunk(g)` images at a time, with
    /// scratch for a chunk's columns `[k, count * plane]` and, when chunks hold several images, a staging matrix
    /// `[Cout, count * plane]`.
    static func forEachImageChunk(
        _ g: ConvGeometry,
        _ body: (_ first: Int, _ count: Int, _ columns: UnsafeMutablePointer<Float>, _ staging: UnsafeMutablePointer<Float>) -> Void
    ) {
        let chunk = imagesPerChunk(g), plane = g.outputPlane, columnCount = g.patchSize * chunk * plane
        ScratchPool.withBuffer(count: columnCount + (chunk > 1 ? g.outputChannels * chunk * plane : 0)) { work in
            var first = 0
            while first < g.batch {
                let count = min(chunk, g.batch - first)
                body(first, count, work, work + columnCount)
                first += count
            }
        }
    }

    /// `[Cout, chunk * plane]` -> images `first ..< first + chunk` of `[N, Cout, plane]`.
    static func scatterChunk(
        _ staging: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        firstImage: Int, imageCount: Int, channels: Int, plane: Int
    ) {
        forEachChunkPlane(firstImage: firstImage, imageCount: imageCount, channels: channels, plane: plane) { chunk, images in
            VectorMath.copy(output + images, staging + chunk, plane)
        }
    }

    /// Images `first ..< first + chunk` of `[N, Cout, plane]` -> `[Cout, chunk * plane]`.
    static func gatherChunk(
        _ source: UnsafePointer<Float>, into staging: UnsafeMutablePointer<Float>,
        firstImage: Int, imageCount: Int, channels: Int, plane: Int
    ) {
        forEachChunkPlane(firstImage: firstImage, imageCount: imageCount, channels: channels, plane: plane) { chunk, images in
            VectorMath.copy(staging + chunk, source + images, plane)
        }
    }

    /// Calls `body(chunkOffset, imagesOffset)` in parallel for every (image, channel) plane of a chunk: its offset in
    /// the chunk matrix `[Cout, chunk * plane]` and in the images `[N, Cout, plane]`.
    @inline(__always)
    private static func forEachChunkPlane(
        firstImage: Int, imageCount: Int, channels: Int, plane: Int, _ body: (Int, Int) -> Void
    ) {
        let width = imageCount * plane
        parallelFor(imageCount * channels, minimumChunk: 16) { item in
            let b = item / channels, c = item - b * channels
            body(c * width + b * plane, ((firstImage + b) * channels + c) * plane)
        }
    }
}
