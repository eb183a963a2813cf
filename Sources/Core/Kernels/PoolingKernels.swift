/// Max and average pooling on raw NCHW buffers, parallel over (image, channel) planes.
///
/// Windows use `ConvGeometry` with `inputChannels == outputChannels == planes` and square kernels; padding
/// positions never win a max and count as zeros in an average (PyTorch `count_include_pad=True`).
enum PoolingKernels {
    /// Writes each window's maximum into `output` and the flat in-plane index of its first maximum into `argmax`.
    static func maxForward(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, planes: Int,
        output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>
    ) {
        let h = g.height, w = g.width, ho = g.outputHeight, wo = g.outputWidth
        let k = g.kernelHeight, s = g.stride, p = g.padding
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
