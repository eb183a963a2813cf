/// Backward pass of `Im2ColConvolution`: for `y = conv(x, W)`, `dW = dY * col(x)^T`, `dcol = W^T * dY`,
/// `dx = col2im(dcol)`, `db = sum of dY over images and pixels`; same schedules as the forward pass.
extension Im2ColConvolution {
    /// Overwrites the non-nil gradients of `sum(gradOutput * conv(input, weight))`: `gradInput` `[N, Cin, H, W]`,
    /// `gradWeight` `[Cout, Cin, kh, kw]`.
    static func backward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
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
        } else if usesPerThreadPipelines(g, backward: true) {
            let threads = ComputeThreads.count, weightCount = cout * k
            let partialCount = gradWeight == nil ? 0 : (threads - 1) * weightCount
            ScratchPool.withBuffer(count: partialCount) { partials in
                parallelFor(threads) { t in
                    let images = (g.batch * t / threads)..<(g.batch * (t + 1) / threads)
                    let dw = gradWeight.map { t == 0 ? $0 : partials + (t - 1) * weightCount }
                    backwardPipeline(input: input, weight: weight, gradOutput: gradOutput, geometry: g, images: images,
                                     gradInput: gradInput, gradWeight: dw)
                }
                if let gradWeight, threads > 1 {
                    let p = UnsafePointer(partials)
                    parallelChunks(weightCount, minimumChunk: 4096) { range in
                        for t in 1..<threads {
                            let src = p + (t - 1) * weightCount
                            for i in range { gradWeight[i] += src[i] }
                        }
                    }
                }
            }
        } else {
            backwardShared(input: input, weight: weight, gradOutput: gradOutput, geometry: g,
                           gradInput: gradInput, gradWeight: gradWeight)
        }
    }

    /// One thread's backward over `images` (which it owns: no other thread writes their input gradient).
    /// `gradWeight` receives this thread's partial sum.
    private static func backwardPipeline(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        geometry g: ConvGeometry, images: Range<Int>,
        gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane, wo = g.outputWidth
        let tile = tiling(g, imagesPerThread: images.count, weightGradientOnly: gradInput == nil)
        let tileColumns = tile.images * tile.rows * wo
        var firstProduct = true
        if images.isEmpty { gradWeight?.update(repeating: 0, count: cout * k) }
        ScratchPool.withBuffer(count: k * tileColumns + (tile.images > 1 ? cout * tileColumns : 0)) { work in
            let columns = work, staging = work + k * tileColumns
            // One tile: dY (row stride ldDy) and the images/rows it covers.
            func process(dy: UnsafePointer<Float>, ldDy: Int, width: Int, image: Int, count: Int, rows: Range<Int>) {
                if let gradWeight {
                    for j in 0..<count {
                        Im2Col.unfold(input, g, image: image + j, rows: rows, into: columns + j * plane, ld: width)
                    }
                    Gemm.multiply(transposeB: true, m: cout, n: k, k: width, a: dy, lda: ldDy, b: columns, ldb: width,
                                  beta: firstProduct ? 0 : 1, c: gradWeight, ldc: k, parallel: false)
                    firstProduct = false
                }
                if let gradInput {
                    Gemm.multiply(transposeA: true, m: k, n: width, k: cout, a: weight, lda: k, b: dy, ldb: ldDy,
                                  c: columns, ldc: width, parallel: false)
                    for j in 0..<count {
                        Im2Col.fold(columns + j * plane, ld: width, g, image: image + j, rows: rows, into: gradInput)
                    }
                }
            }
            var b = images.lowerBound
            while b < images.upperBound {
                if tile.images == 1 {
                    gradInput?.advanced(by: b * g.inputChannels * g.inputPlane)
                        .update(repeating: 0, count: g.inputChannels * g.inputPlane)
                    var r0 = 0
                    while r0 < g.outputHeight {
                        let rows = r0..<min(r0 + tile.rows, g.outputHeight)
                        process(dy: gradOutput + b * cout * plane + r0 * wo, ldDy: plane, width: rows.count * wo,
                                image: b, count: 1, rows: rows)
                        r0 = rows.upperBound
                    }
                    b += 1
                } else {
                    let count = min(tile.images, images.upperBound - b), width = count * plane
                    gradInput?.advanced(by: b * g.inputChannels * g.inputPlane)
                        .update(repeating: 0, count: count * g.inputChannels * g.inputPlane)
                    for j in 0..<count {
                        for c in 0..<cout {
                            VectorMath.copy(staging + c * width + j * plane, gradOutput + ((b + j) * cout + c) * plane, plane)
                        }
                    }
                    process(dy: staging, ldDy: width, width: width, image: b, count: count, rows: 0..<g.outputHeight)
                    b += count
                }
            }
        }
    }

    /// Backward with image chunks: gathered dY, im2col/col2im split over threads, GEMMs split by `Gemm.multiply`.
    private static func backwardShared(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?
    ) {
        let cout = g.outputChannels, k = g.patchSize, plane = g.outputPlane
        forEachImageChunk(g) { first, count, columns, staging in
            let width = count * plane
            let dy: UnsafePointer<Float>
            if count == 1 {
                dy = gradOutput + first * cout * plane
            } else {
                gatherChunk(gradOutput, into: staging, firstImage: first, imageCount: count, channels: cout, plane: plane)
                dy = UnsafePointer(staging)
            }
            if let gradWeight {
                Im2Col.unfoldImagesInParallel(input, g, first: first, count: count, into: columns)
                Gemm.multiply(transposeB: true, m: cout, n: k, k: width, a: dy, lda: width, b: columns, ldb: width,
                              beta: first == 0 ? 0 : 1, c: gradWeight, ldc: k)
            }
            if let gradInput {
                Gemm.multiply(transposeA: true, m: k, n: width, k: cout, a: weight, lda: k, b: dy, ldb: width,
                              c: columns, ldc: width)
                Im2Col.foldImagesInParallel(columns, g, first: first, count: count, into: gradInput)
            }
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
