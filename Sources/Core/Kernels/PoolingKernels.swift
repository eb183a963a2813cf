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
        let h = g.height, w = g.width, ho = g.outputHeight, wo = g.outputWidth
        let k = g.kernelHeight, s = g.stride, p = g.padding
        if s <= 2 {
            maxForwardRows(input, g, planes: planes, output: output, argmax: argmax)
            return
        }
        parallelFor(planes) { plane in
            let x = input + plane * h * w
            var o = plane * ho * wo
            for oh in 0..<ho {
                let h0 = max(oh * s - p, 0), h1 = min(oh * s - p + k, h)
                for ow in 0..<wo {
                    let w0 = max(ow * s - p, 0), w1 = min(ow * s - p + k, w)
                    var best = -Float.infinity, index = h0 * w + w0
                    for ih in h0..<h1 {
                        let row = x + ih * w
                        for iw in w0..<w1 where row[iw] > best || row[iw].isNaN {
                            best = row[iw]
                            index = ih * w + iw
                        }
                    }
                    output[o] = best
                    argmax[o] = Int32(index)
                    o += 1
                }
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
        let h = g.height, w = g.width, ho = g.outputHeight, wo = g.outputWidth
        let k = g.kernelHeight, s = g.stride, p = g.padding
        let scale = 1 / Float(k * k)
        parallelFor(planes) { plane in
            let x = input + plane * h * w
            var o = plane * ho * wo
            for oh in 0..<ho {
                let h0 = max(oh * s - p, 0), h1 = min(oh * s - p + k, h)
                for ow in 0..<wo {
                    let w0 = max(ow * s - p, 0), w1 = min(ow * s - p + k, w)
                    var total: Float = 0
                    for ih in h0..<h1 {
                        let row = x + ih * w
                        for iw in w0..<w1 { total += row[iw] }
                    }
                    output[o] = total * scale
                    o += 1
                }
            }
        }
    }

    /// Spreads each output gradient evenly (`1 / kernel^2`) over its window's input pixels; overwrites `gradInput`.
    static func averageBackward(
        _ gradOutput: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int, gradInput: UnsafeMutablePointer<Float>
    ) {
        let h = g.height, w = g.width, ho = g.outputHeight, wo = g.outputWidth
        let k = g.kernelHeight, s = g.stride, p = g.padding
        let scale = 1 / Float(k * k)
        parallelFor(planes) { plane in
            let dx = gradInput + plane * h * w
            dx.update(repeating: 0, count: h * w)
            var o = plane * ho * wo
            for oh in 0..<ho {
                let h0 = max(oh * s - p, 0), h1 = min(oh * s - p + k, h)
                for ow in 0..<wo {
                    let w0 = max(ow * s - p, 0), w1 = min(ow * s - p + k, w)
                    let share = gradOutput[o] * scale
                    for ih in h0..<h1 {
                        let row = dx + ih * w
                        for iw in w0..<w1 { row[iw] += share }
                    }
                    o += 1
                }
            }
        }
    }
}
