import CBLAS

/// Convolution of small feature maps one kernel tap at a time, skipping the zero padding that im2col multiplies.
///
/// Each tap `t` of the kernel gets one GEMM over just the output pixels whose input under `t` exists (a rectangle
/// `R_t`): `Y[:, R_t] += W_t X_t`, with `W_t` the `[Cout x Cin]` slice of tap `t` (weights transposed to tap-major
/// order once per call) and `X_t` the `[Cin x N |R_t|]` input pixels it reads. The gradients are the same products
/// transposed: `dW_t = dY_t X_t^T` and `dX_t = W_t^T dY_t` (added back where `X_t` came from). On a 2x2 map a
/// padded 3x3 kernel has 4 of its 9 taps inside the input per output pixel, so im2col's GEMM spends 56 % of its
/// work on padding; on small maps the per-tap GEMMs (depth `Cin`, width `N |R_t|`) also pack better than one
/// GEMM of depth `9 Cin` over few columns. Each output element is computed by one thread in a fixed tap order, so
/// results do not depend on the thread count.
///
/// `ConvolutionRouter` chooses it for output planes of at most `maximumPlane` pixels. Measured here against im2col
/// (time ratio, forward / backward, ResNet18 shapes at batch 32): 2x2 maps 0.57-0.74, 4x4 maps 0.77-0.89, 5x5
/// maps 0.68-0.97; 10x10 maps 1.09-1.56 and larger maps worse, hence the limit.
enum TapConvolution {
    static let maximumPlane = 25

    /// One kernel tap: its index in the `kh x kw` kernel, the output rectangle where it reads inside the input,
    /// and the input offset of that read (`input = output * stride + offset`).
    struct Tap {
        let index: Int
        let rows: Range<Int>
        let columns: Range<Int>
        let rowOffset: Int
        let columnOffset: Int
        var count: Int { rows.count * columns.count }
    }

    static func taps(_ g: ConvGeometry) -> [Tap] {
        var taps: [Tap] = []
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let dy = i * g.dilation - g.padding, dx = j * g.dilation - g.padding
                let (y0, y1) = ConvGeometry.validRange(offset: dy, extent: g.height, stride: g.stride, outputs: g.outputHeight)
                let (x0, x1) = ConvGeometry.validRange(offset: dx, extent: g.width, stride: g.stride, outputs: g.outputWidth)
                guard y1 > y0, x1 > x0 else { continue }
                taps.append(Tap(index: i * g.kernelWidth + j, rows: y0..<y1, columns: x0..<x1, rowOffset: dy, columnOffset: dx))
            }
        }
        return taps
    }

    // MARK: Layout helpers

    /// `dst[t][o][c] = src[o][c][t]` (`[Cout, Cin, taps]` to tap-major), or back when `inverse`. Forward is a
    /// transpose of the `[Cout Cin, taps]` matrix in bands of 16 of its rows; the inverse walks one output channel's
    /// `[Cin, taps]` block at a time (its tap-major rows are `Cin` contiguous floats), which measured faster than
    /// transposing the `[taps, Cout Cin]` matrix in registers for ResNet18's layer-4 weights (memory-bound either way).
    static func transposeWeights(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                                 inverse: Bool = false) {
        let cin = g.inputChannels, cout = g.outputChannels, rows = cin * cout, k2 = g.kernelHeight * g.kernelWidth
        if inverse {
            parallelFor(cout, minimumChunk: 8) { o in
                let flat = dst + o * cin * k2
                for t in 0..<k2 {
                    let tapMajor = src + (t * cout + o) * cin
                    for c in 0..<cin { flat[c * k2 + t] = tapMajor[c] }
                }
            }
            return
        }
        parallelChunks((rows + 15) / 16, minimumChunk: 64) { bands in
            let r0 = bands.lowerBound * 16, count = min(rows, bands.upperBound * 16) - r0
            Transpose.matrix(src + r0 * k2, lds: k2, dst + r0, ldd: rows, rows: count, columns: k2)
        }
    }

    /// Column offsets of each tap's block in the gathered `[channels][sum over taps of N |R_t|]` matrices.
    static func offsets(_ taps: [Tap], batch: Int) -> [Int] {
        var offsets = [0]
        for tap in taps { offsets.append(offsets.last! + batch * tap.count) }
        return offsets
    }

    /// `X_t` for every tap: `gathered[c][offset_t + n |R_t| + r]` = input pixel read by tap `t` at output `r` of
    /// image `n`. Row length `ld`.
    static func gatherInputs(_ input: UnsafePointer<Float>, _ g: ConvGeometry, _ taps: [Tap], _ offsets: [Int],
                             into gathered: UnsafeMutablePointer<Float>, ld: Int) {
        let cin = g.inputChannels, h = g.height, w = g.width, s = g.stride
        parallelFor(cin, minimumChunk: 4) { c in
            let row = gathered + c * ld
            for (k, tap) in taps.enumerated() {
                var out = row + offsets[k]
                for n in 0..<g.batch {
                    let plane = input + (n * cin + c) * h * w
                    for oy in tap.rows {
                        let src = plane + (oy * s + tap.rowOffset) * w + tap.columnOffset
                        for ox in tap.columns { out.pointee = src[ox * s]; out += 1 }
                    }
                }
            }
        }
    }

    /// `dY_t` for every tap: `gathered[o][offset_t + n |R_t| + r]` = `gradOutput[n][o]` at output `r` of `R_t`.
    static func gatherOutputs(_ gradOutput: UnsafePointer<Float>, _ g: ConvGeometry, _ taps: [Tap], _ offsets: [Int],
                              into gathered: UnsafeMutablePointer<Float>, ld: Int) {
        let cout = g.outputChannels, wo = g.outputWidth, plane = g.outputPlane
        parallelFor(cout, minimumChunk: 4) { o in
            let row = gathered + o * ld
            for (k, tap) in taps.enumerated() {
                var out = row + offsets[k]
                for n in 0..<g.batch {
                    let src = gradOutput + (n * cout + o) * plane
                    for oy in tap.rows {
                        for ox in tap.columns { out.pointee = src[oy * wo + ox]; out += 1 }
                    }
                }
            }
        }
    }

    // MARK: Forward

    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>) {
        _ = Gemm.configured
        let cin = g.inputChannels, cout = g.outputChannels, plane = g.outputPlane, n = g.batch
        let taps = taps(g), offsets = offsets(taps, batch: n), ld = offsets.last!
        let k2 = g.kernelHeight * g.kernelWidth, maxColumns = n * (taps.map(\.count).max() ?? 0)
        let sizes = [k2 * cout * cin, cin * ld, cout * n * plane]
        ScratchPool.withBuffer(count: sizes.reduce(0, +)) { work in
            let tapWeights = work, gathered = tapWeights + sizes[0], staged = gathered + sizes[1]
            // a 1x1 kernel's [Cout, Cin, 1] weights already are tap-major
            let tapMajor = k2 == 1 ? weight : UnsafePointer(tapWeights)
            if k2 > 1 { transposeWeights(weight, tapWeights, g) }
            gatherInputs(input, g, taps, offsets, into: gathered, ld: ld)
            // Y'[o][n][p], output channels split over the threads
            parallelChunks(cout, minimumChunk: 16) { rows in ScratchPool.withBuffer(count: rows.count * maxColumns) { temp in
                let m = Int32(rows.count), yRows = staged + rows.lowerBound * n * plane
                yRows.update(repeating: 0, count: rows.count * n * plane)
                for (k, tap) in taps.enumerated() {
                    let columns = n * tap.count
                    let a = tapMajor + (tap.index * cout + rows.lowerBound) * cin
                    if tap.count == plane {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, Int32(columns), Int32(cin), 1,
                                    a, Int32(cin), gathered + offsets[k], Int32(ld), 1, yRows, Int32(n * plane))
                        continue
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, Int32(columns), Int32(cin), 1,
                                a, Int32(cin), gathered + offsets[k], Int32(ld), 0, temp, Int32(columns))
                    for r in 0..<rows.count {
                        var src = UnsafePointer(temp + r * columns)
                        for image in 0..<n {
                            let dst = yRows + (r * n + image) * plane
                            for oy in tap.rows {
                                for ox in tap.columns { dst[oy * g.outputWidth + ox] += src.pointee; src += 1 }
                            }
                        }
                    }
                }
            } }
            parallelFor(n * cout, minimumChunk: 64) { item in
                let image = item / cout, o = item - image * cout
                VectorMath.copy(output + item * plane, staged + (o * n + image) * plane, plane)
            }
        }
    }

    // MARK: Backward

    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?) {
        _ = Gemm.configured
        let cin = g.inputChannels, cout = g.outputChannels, n = g.batch
        let taps = taps(g), offsets = offsets(taps, batch: n), ld = offsets.last!
        let k2 = g.kernelHeight * g.kernelWidth, maxColumns = n * (taps.map(\.count).max() ?? 0)
        let sizes = [k2 * cout * cin, cin * ld, cout * ld]
        ScratchPool.withBuffer(count: sizes.reduce(0, +)) { work in
            let tapWeights = work, gatheredInput = tapWeights + sizes[0], gatheredGrad = gatheredInput + sizes[1]
            gatherOutputs(gradOutput, g, taps, offsets, into: gatheredGrad, ld: ld)
            if let gradWeight {
                let tapMajorGrad = k2 == 1 ? gradWeight : tapWeights
                // dW_t [Cout x Cin] = dY_t X_t^T into tap-major storage, then back to [Cout, Cin, kh, kw]
                gatherInputs(input, g, taps, offsets, into: gatheredInput, ld: ld)
                for t in Set(0..<k2).subtracting(taps.map(\.index)) {  // taps that never reach the input
                    (tapMajorGrad + t * cout * cin).update(repeating: 0, count: cout * cin)
                }
                parallelChunks(cout, minimumChunk: 16) { rows in
                    for (k, tap) in taps.enumerated() {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(cin),
                                    Int32(n * tap.count), 1, gatheredGrad + rows.lowerBound * ld + offsets[k], Int32(ld),
                                    gatheredInput + offsets[k], Int32(ld), 0,
                                    tapMajorGrad + (tap.index * cout + rows.lowerBound) * cin, Int32(cin))
                    }
                }
                if k2 > 1 { transposeWeights(tapWeights, gradWeight, g, inverse: true) }
            }
            guard let gradInput else { return }
            let tapMajor = k2 == 1 ? weight : UnsafePointer(tapWeights)
            if k2 > 1 { transposeWeights(weight, tapWeights, g) }
            // dX_t [Cin x N |R_t|] = W_t^T dY_t, added back at the pixels X_t was read from; channels split over threads
            let h = g.height, w = g.width, s = g.stride
            parallelChunks(cin, minimumChunk: 16) { channels in ScratchPool.withBuffer(count: channels.count * maxColumns) { temp in
                for image in 0..<n {
                    (gradInput + (image * cin + channels.lowerBound) * h * w).update(repeating: 0, count: channels.count * h * w)
                }
                for (k, tap) in taps.enumerated() {
                    let columns = n * tap.count
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(channels.count), Int32(columns), Int32(cout),
                                1, tapMajor + tap.index * cout * cin + channels.lowerBound, Int32(cin),
                                gatheredGrad + offsets[k], Int32(ld), 0, temp, Int32(columns))
                    for (r, c) in channels.enumerated() {
                        var src = UnsafePointer(temp + r * columns)
                        for image in 0..<n {
                            let plane = gradInput + (image * cin + c) * h * w
                            for oy in tap.rows {
                                let dst = plane + (oy * s + tap.rowOffset) * w + tap.columnOffset
                                for ox in tap.columns { dst[ox * s] += src.pointee; src += 1 }
                            }
                        }
                    }
                }
            } }
        }
    }
}

extension TapConvolution: ConvolutionKernel {
    static let family = ConvolutionFamily.taps

    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool { g.batch > 0 }

    /// Output maps small enough for the tap-wise products to beat im2col.
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        g.outputPlane <= maximumPlane
    }
}
