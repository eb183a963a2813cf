/// Batched 2-D convolution (cross-correlation, as in PyTorch) on raw NCHW buffers: im2col + OpenBLAS sgemm.
///
/// Images are processed in chunks of `imagesPerChunk` so that one GEMM spans `chunk * Ho * Wo` columns: the
/// deep layers with 2x2 or 5x5 outputs still get wide products, and the column workspace stays in cache-sized
/// pieces borrowed from `ScratchPool`. im2col/col2im split over (image, channel) planes and every GEMM splits over
/// the compute threads (`Gemm.multiply`), one parallel region at a time. 1x1 stride-1 convolutions skip im2col.
///
/// Shapes: input `[N, Cin, H, W]`, weight `[Cout, Cin, kh, kw]` (row-major, i.e. `[Cout, patchSize]`),
/// bias `[Cout]`, output `[N, Cout, Ho, Wo]`.
public enum ConvolutionKernels {
    /// Upper bound on the floats of one im2col chunk (16 MiB: two chunks sit in the 32 MiB L3 cache).
    static let columnBudget = 1 << 22
    /// Pointwise convolutions with at least this many pixels per image multiply each image directly.
    static let pointwiseDirectPlane = 512

    /// Images per GEMM chunk: as many as fit the column budget, at least one.
    public static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let perImage = g.patchSize * g.outputPlane
        return max(1, min(g.batch, columnBudget / max(1, perImage)))
    }

    /// `output = conv(input, weight) + bias`. `output` may be uninitialised; it is fully written.
    public static func forward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        geometry g: ConvGeometry, output: UnsafeMutablePointer<Float>
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        if g.isPointwise && plane >= pointwiseDirectPlane {
            for n in 0..<g.batch {
                Gemm.multiply(m: cout, n: plane, k: k, a: weight, lda: k, b: input + n * k * plane, ldb: plane,
                              c: output + n * cout * plane, ldc: plane)
            }
        } else {
            let chunk = imagesPerChunk(g)
            let columnCount = k * chunk * plane
            let stagingCount = chunk > 1 ? cout * chunk * plane : 0
            ScratchPool.withBuffer(count: columnCount + stagingCount) { work in
                let columns = work, staging = work + columnCount
                var first = 0
                while first < g.batch {
                    let count = min(chunk, g.batch - first)
                    let width = count * plane
                    Im2Col.unfold(input, g, firstImage: first, imageCount: count, into: columns)
                    let target = count == 1 ? output + first * cout * plane : staging
                    Gemm.multiply(m: cout, n: width, k: k, a: weight, lda: k, b: columns, ldb: width,
                                  c: target, ldc: width)
                    if count > 1 {
                        scatterChunk(staging, into: output, firstImage: first, imageCount: count, channels: cout, plane: plane)
                    }
                    first += count
                }
            }
        }
        if let bias {
            parallelFor(g.batch * cout, minimumChunk: 8) { item in
                let b = bias[item % cout]
                let p = output + item * plane
                for i in 0..<plane { p[i] += b }
            }
        }
    }

    /// Gradients of `sum(gradOutput * conv(input, weight))`. Each non-nil destination is overwritten:
    /// `gradInput` `[N, Cin, H, W]`, `gradWeight` `[Cout, Cin, kh, kw]`, `gradBias` `[Cout]`.
    public static func backward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        geometry g: ConvGeometry,
        gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
        gradBias: UnsafeMutablePointer<Float>?
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        if let gradBias { sumPlanes(gradOutput, batch: g.batch, channels: cout, plane: plane, into: gradBias) }
        guard gradInput != nil || gradWeight != nil else { return }
        if g.batch == 0 {
            gradWeight?.update(repeating: 0, count: cout * k)
            return
        }
        if g.isPointwise && plane >= pointwiseDirectPlane {
            for n in 0..<g.batch {
                let dy = gradOutput + n * cout * plane
                if let gradWeight {
                    Gemm.multiply(transposeB: true, m: cout, n: k, k: plane, a: dy, lda: plane,
                                  b: input + n * k * plane, ldb: plane, beta: n == 0 ? 0 : 1, c: gradWeight, ldc: k)
                }
                if let gradInput {
                    Gemm.multiply(transposeA: true, m: k, n: plane, k: cout, a: weight, lda: k, b: dy, ldb: plane,
                                  c: gradInput + n * k * plane, ldc: plane)
                }
            }
            return
        }
        let chunk = imagesPerChunk(g)
        let columnCount = k * chunk * plane
        let stagingCount = chunk > 1 ? cout * chunk * plane : 0
        ScratchPool.withBuffer(count: columnCount + stagingCount) { work in
            let columns = work, staging = work + columnCount
            var first = 0
            while first < g.batch {
                let count = min(chunk, g.batch - first)
                let width = count * plane
                let dy: UnsafePointer<Float>
                if count == 1 {
                    dy = gradOutput + first * cout * plane
                } else {
                    gatherChunk(gradOutput, into: staging, firstImage: first, imageCount: count, channels: cout, plane: plane)
                    dy = UnsafePointer(staging)
                }
                if let gradWeight {
                    Im2Col.unfold(input, g, firstImage: first, imageCount: count, into: columns)
                    Gemm.multiply(transposeB: true, m: cout, n: k, k: width, a: dy, lda: width, b: columns, ldb: width,
                                  beta: first == 0 ? 0 : 1, c: gradWeight, ldc: k)
                }
                if let gradInput {
                    Gemm.multiply(transposeA: true, m: k, n: width, k: cout, a: weight, lda: k, b: dy, ldb: width,
                                  c: columns, ldc: width)
                    Im2Col.fold(columns, g, firstImage: first, imageCount: count, into: gradInput)
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
            (output + ((firstImage + b) * channels + c) * plane).update(from: staging + c * width + b * plane, count: plane)
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
            (staging + c * width + b * plane).update(from: source + ((firstImage + b) * channels + c) * plane, count: plane)
        }
    }

    /// `out[c] = sum over n and pixels of x[n, c, :]`, for `x` of shape `[N, C, plane]`; channels split over threads.
    static func sumPlanes(_ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, into out: UnsafeMutablePointer<Float>) {
        parallelFor(channels) { c in
            var total: Double = 0
            for n in 0..<batch {
                total += Double(VectorMath.sum(x + (n * channels + c) * plane, count: plane))
            }
            out[c] = Float(total)
        }
    }
}
