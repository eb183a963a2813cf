/// Max and average pooling on raw NCHW buffers, parallel over (image, channel) planes.
///
/// Windows use `ConvGeometry` with `inputChannels == outputChannels == planes` and square kernels; padding
/// positions never win a max and count as zeros in an average (PyTorch `count_include_pad=True`).
enum PoolingKernels {
    /// Writes each window's maximum into `output` and the flat in-plane index of its first maximum into `argmax`
    /// (NaN wins, as in PyTorch). Strides 1 and 2 take the 16-lane path (`maxForwardRows`).
    static func maxForward(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int,
        output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        if g.stride <= 2 {
            maxForwardRows(input, g, planes: planes, output: output, argmax: argmax)
            return
        }
        let h = g.height, w = g.width
        parallelFor(planes) { plane in
            let x = input + plane * h * w
            forEachWindow(g, plane: plane) { o, rows, columns in
                var best = -Float.infinity, index = rows.lowerBound * w + columns.lowerBound
                for ih in rows {
                    let row = x + ih * w
                    for iw in columns where row[iw] > best || row[iw].isNaN {
                        best = row[iw]
                        index = ih * w + iw
                    }
                }
                output[o] = best
                argmax[o] = Int32(index)
            }
        }
    }

    /// The stride-1 and stride-2 max pool, 16 outputs of a row at a time: each plane is first copied into rows padded
    /// with -infinity on both sides (padding then never wins, and every load stays inside the row), and each window
    /// tap is one 16-lane load (stride 2: the even lanes of a 32-lane load) compared with the running maximum, with the
    /// same scan order and tie rule as the scalar loop (rows, then columns; a later value wins only if greater or NaN).
    private static func maxForwardRows(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int,
        output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        typealias Values = SIMD16<Float>
        typealias Indices = SIMD16<Int32>
        let h = g.height, w = g.width, ho = g.outputHeight, wo = g.outputWidth
        let k = g.kernelHeight, s = g.stride, p = g.padding
        let blocks = (wo + 15) / 16
        // padded column = input column + p; the last block's loads end at padded column s * 16 * blocks + k - 2
        let pitch = p + w + s * 16 * blocks + k + 32
        let lanes = Indices((0..<16).map { Int32($0) })
        parallelChunks(planes) { chunk in ScratchPool.withBuffer(count: pitch * h) { rows in
            rows.update(repeating: -.infinity, count: pitch * h)
            for plane in chunk {
                let x = input + plane * h * w
                for ih in 0..<h { (rows + ih * pitch + p).update(from: x + ih * w, count: w) }
                for oh in 0..<ho {
                    let h0 = max(oh * s - p, 0), h1 = min(oh * s - p + k, h)
                    let out = plane * ho * wo + oh * wo
                    for block in 0..<blocks {
                        let ow0 = block * 16
                        let firstColumn = (lanes &+ Int32(ow0)) &* Int32(s) &- Int32(p)
                        var best = Values(repeating: -.infinity)
                        var index = Indices(repeating: Int32(h0 * w)) &+ firstColumn.replacing(with: 0, where: firstColumn .< 0)
                        for ih in h0..<h1 {
                            let row = UnsafeRawPointer(rows + ih * pitch + s * ow0)
                            for kw in 0..<k {
                                let v = s == 1 ? row.loadUnaligned(fromByteOffset: kw * 4, as: Values.self)
                                    : row.loadUnaligned(fromByteOffset: kw * 4, as: SIMD32<Float>.self).evenHalf
                                let better = (v .> best) .| (v .!= v)
                                best.replace(with: v, where: better)
                                index.replace(with: Indices(repeating: Int32(ih * w + kw)) &+ firstColumn, where: better)
                            }
                        }
                        let count = min(16, wo - ow0)
                        if count == 16 {
                            UnsafeMutableRawPointer(output + out + ow0).storeBytes(of: best, as: Values.self)
                            UnsafeMutableRawPointer(argmax + out + ow0).storeBytes(of: index, as: Indices.self)
                        } else {
                            for l in 0..<count {
                                output[out + ow0 + l] = best[l]
                                argmax[out + ow0 + l] = index[l]
                            }
                        }
                    }
                }
            }
        } }
    }

    /// Routes each output gradient to the input position that won its window; `gradInput` is overwritten.
    static func maxBackward(
        _ gradOutput: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, _ g: ConvGeometry, planes: Int,
        gradInput: UnsafeMutablePointer<Float>
    ) {
        let inPlane = g.inputPlane, outPlane = g.outputPlane
        parallelFor(planes) { plane in
            let dx = gradInput + plane * inPlane
            dx.update(repeating: 0, count: inPlane)
            let dy = gradOutput + plane * outPlane, idx = argmax + plane * outPlane
            for o in 0..<outPlane { dx[Int(idx[o])] += dy[o] }
        }
    }

    /// Window sums divided by `kernel * kernel` (padding counted).
    static func averageForward(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int, output: UnsafeMutablePointer<Float>
    ) {
        let h = g.height, w = g.width, scale = 1 / Float(g.kernelHeight * g.kernelHeight)
        parallelFor(planes) { plane in
            let x = input + plane * h * w
            forEachWindow(g, plane: plane) { o, rows, columns in
                var total: Float = 0
                for ih in rows {
                    let row = x + ih * w
                    for iw in columns { total += row[iw] }
                }
                output[o] = total * scale
            }
        }
    }

    /// Spreads each output gradient evenly (`1 / kernel^2`) over its window's input pixels; overwrites `gradInput`.
    static func averageBackward(
        _ gradOutput: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int, gradInput: UnsafeMutablePointer<Float>
    ) {
        let h = g.height, w = g.width, scale = 1 / Float(g.kernelHeight * g.kernelHeight)
        parallelFor(planes) { plane in
            let dx = gradInput + plane * h * w
            dx.update(repeating: 0, count: h * w)
            forEachWindow(g, plane: plane) { o, rows, columns in
                let share = gradOutput[o] * scale
                for ih in rows {
                    let row = dx + ih * w
                    for iw in columns { row[iw] += share }
                }
            }
        }
    }

    /// Calls `body(o, rows, columns)` for each output pixel of `plane` in row-major order: `o` its flat index over all
    /// planes, `rows` and `columns` the input rows and columns its window covers inside the image (padding clipped).
    @inline(__always)
    private static func forEachWindow(_ g: ConvGeometry, plane: Int, _ body: (Int, Range<Int>, Range<Int>) -> Void) {
        let k = g.kernelHeight, s = g.stride, p = g.padding
        var o = plane * g.outputPlane
        for oh in 0..<g.outputHeight {
            let rows = max(oh * s - p, 0)..<min(oh * s - p + k, g.height)
            for ow in 0..<g.outputWidth {
                body(o, rows, max(ow * s - p, 0)..<min(ow * s - p + k, g.width))
                o += 1
            }
        }
    }
}
