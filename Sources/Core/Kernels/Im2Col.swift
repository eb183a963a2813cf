/// im2col and col2im (Chellapilla, Puri & Simard 2006, "High Performance Convolutional Neural Networks for
/// Document Processing"): a convolution becomes one matrix product once every receptive field is unrolled
/// into a column.
///
/// Column matrix layout: row `(c * kh + i) * kw + j` (the patch index, matching the weight's
/// `[Cout, Cin, kh, kw]` layout), one column per output pixel `oh * Wo + ow`, with leading dimension `ld`.
/// A tile covers output rows `rows` of one image; several whole images sit side by side at column offsets
/// `b * Ho * Wo`, so deep layers with 2x2 outputs still get wide GEMMs.
enum Im2Col {
    /// Unrolls output rows `rows` of image `image` of `input` (`[N, C, H, W]`) into `columns` (row stride `ld`).
    @inline(__always)
    static func unfold(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, image: Int, rows: Range<Int>,
        into columns: UnsafeMutablePointer<Float>, ld: Int
    ) {
        for c in 0..<g.inputChannels { unfoldChannel(input, g, image: image, channel: c, rows: rows, into: columns, ld: ld) }
    }

    /// Accumulates column gradients of output rows `rows` back into image `image` of `output` (`[N, C, H, W]`):
    /// every input pixel receives the sum over the patches that contain it. Does not zero `output` first.
    @inline(__always)
    static func fold(
        _ columns: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry, image: Int, rows: Range<Int>,
        into output: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<g.inputChannels { foldChannel(columns, ld: ld, g, image: image, channel: c, rows: rows, into: output) }
    }

    /// `unfold` of whole images `first ..< first + count` (column offset `b * Ho * Wo`), parallel over planes.
    static func unfoldImagesInParallel(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, first: Int, count: Int, into columns: UnsafeMutablePointer<Float>
    ) {
        let channels = g.inputChannels, plane = g.outputPlane, ld = count * plane
        parallelFor(count * channels) { item in
            let b = item / channels
            unfoldChannel(input, g, image: first + b, channel: item - b * channels, rows: 0..<g.outputHeight,
                          into: columns + b * plane, ld: ld)
        }
    }

    /// Zeroes images `first ..< first + count` of `output` and folds whole-image columns into them, parallel
    /// over planes (each plane is written by exactly one thread).
    static func foldImagesInParallel(
        _ columns: UnsafePointer<Float>, _ g: ConvGeometry, first: Int, count: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let channels = g.inputChannels, plane = g.outputPlane, ld = count * plane
        parallelFor(count * channels) { item in
            let b = item / channels, c = item - b * channels
            (output + ((first + b) * channels + c) * g.inputPlane).update(repeating: 0, count: g.inputPlane)
            foldChannel(columns + b * plane, ld: ld, g, image: first + b, channel: c, rows: 0..<g.outputHeight, into: output)
        }
    }

    @inline(__always)
    private static func unfoldChannel(
        _ input: UnsafePointer<Float>, _ g: ConvGeometry, image: Int, channel c: Int, rows: Range<Int>,
        into columns: UnsafeMutablePointer<Float>, ld: Int
    ) {
        let h = g.height, w = g.width, kh = g.kernelHeight, kw = g.kernelWidth
        let s = g.stride, p = g.padding, d = g.dilation, wo = g.outputWidth
        let source = input + (image * g.inputChannels + c) * h * w
        for i in 0..<kh {
            for j in 0..<kw {
                var dst = columns + ((c * kh + i) * kw + j) * ld
                let colOffset = j * d - p
                let (lo, hi) = ConvGeometry.validRange(offset: colOffset, extent: w, stride: s, outputs: wo)
                for oh in rows {
                    let ih = oh * s - p + i * d
                    if ih < 0 || ih >= h {
                        dst.update(repeating: 0, count: wo)
                    } else {
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        let row = source + ih * w + colOffset
                        if s == 1 {
                            (dst + lo).update(from: row + lo, count: hi - lo)
                        } else {
                            var ow = lo
                            while ow < hi { dst[ow] = row[ow * s]; ow += 1 }
                        }
                        if hi < wo { (dst + hi).update(repeating: 0, count: wo - hi) }
                    }
                    dst += wo
                }
            }
        }
    }

    @inline(__always)
    private static func foldChannel(
        _ columns: UnsafePointer<Float>, ld: Int, _ g: ConvGeometry, image: Int, channel c: Int, rows: Range<Int>,
        into output: UnsafeMutablePointer<Float>
    ) {
        let h = g.height, w = g.width, kh = g.kernelHeight, kw = g.kernelWidth
        let s = g.stride, p = g.padding, d = g.dilation, wo = g.outputWidth
        let target = output + (image * g.inputChannels + c) * h * w
        for i in 0..<kh {
            for j in 0..<kw {
                var src = columns + ((c * kh + i) * kw + j) * ld
                let colOffset = j * d - p
                let (lo, hi) = ConvGeometry.validRange(offset: colOffset, extent: w, stride: s, outputs: wo)
                for oh in rows {
                    let ih = oh * s - p + i * d
                    if ih >= 0 && ih < h {
                        let row = target + ih * w + colOffset
                        var ow = lo
                        if s == 1 {
                            while ow < hi { row[ow] += src[ow]; ow += 1 }
                        } else {
                            while ow < hi { row[ow * s] += src[ow]; ow += 1 }
                        }
                    }
                    src += wo
                }
            }
        }
    }
}
