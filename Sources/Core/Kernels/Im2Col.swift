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
    /// `columns` is scratch: entries that map to padding may be zeroed in place.
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
        let contiguous = s == 1 && wo == w && p < w
        for i in 0..<kh {
            for j in 0..<kw {
                if contiguous {
                    unfoldContiguous(source, g, tapRow: i, tapColumn: j, rows: rows,
                                     into: columns + ((c * kh + i) * kw + j) * ld)
                    continue
                }
                var dst = columns + ((c * kh + i) * kw + j) * ld
                let colOffset = j * d - p
                let (lo, hi) = ConvGeometry.validRange(offset: colOffset, extent: w, stride: s, outputs: wo)
                for oh in rows {
                    let ih = oh * s - p + i * d
                    if ih < 0 || ih >= h {
                        VectorMath.zero(dst, wo)
                    } else {
                        if lo > 0 { VectorMath.zero(dst, lo) }
                        let row = source + ih * w + colOffset
                        if s == 1 {
                            VectorMath.copy(dst + lo, row + lo, hi - lo)
                        } else {
                            if s == 2 {
                                VectorMath.gatherEven(dst + lo, row + 2 * lo, count: hi - lo,
                                                      readable: h * w - ih * w - colOffset - 2 * lo)
                            } else {
                                var ow = lo
                                while ow < hi { dst[ow] = row[ow * s]; ow += 1 }
                            }
                        }
                        if hi < wo { VectorMath.zero(dst + hi, wo - hi) }
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
        let contiguous = s == 1 && wo == w && p < w
        for i in 0..<kh {
            for j in 0..<kw {
                if contiguous {
                    foldContiguous(UnsafeMutablePointer(mutating: columns + ((c * kh + i) * kw + j) * ld), g,
                                   tapRow: i, tapColumn: j, rows: rows, into: target)
                    continue
                }
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
                            if s == 2 {
                                VectorMath.addToEven(row + 2 * lo, src + lo, count: hi - lo,
                                                     writable: h * w - ih * w - colOffset - 2 * lo)
                            } else {
                                while ow < hi { row[ow * s] += src[ow]; ow += 1 }
                            }
                        }
                    }
                    src += wo
                }
            }
        }
    }

    /// The output rows `lo ..< hi` of `rows` whose tap row `i` reads inside the image (stride 1).
    @inline(__always)
    private static func validRows(_ g: ConvGeometry, tapRow i: Int, rows: Range<Int>) -> Range<Int> {
        let shift = i * g.dilation - g.padding
        let lo = min(max(rows.lowerBound, -shift), rows.upperBound)
        let hi = max(min(rows.upperBound, g.height - shift), lo)
        return lo..<hi
    }

    /// Stride 1 with `Wo == W` ("same" width): the tap's column row over several output rows is one shifted
    /// contiguous run of the input plane, so it is copied in one piece; the `|offset|` entries per row that
    /// wrapped into the neighbouring input row are then zeroed (they are padding).
    @inline(__always)
    private static func unfoldContiguous(
        _ source: UnsafePointer<Float>, _ g: ConvGeometry, tapRow i: Int, tapColumn j: Int, rows: Range<Int>,
        into dst: UnsafeMutablePointer<Float>
    ) {
        let w = g.width, offset = j * g.dilation - g.padding, shift = i * g.dilation - g.padding
        let valid = validRows(g, tapRow: i, rows: rows)
        let base = rows.lowerBound
        if valid.lowerBound > base { VectorMath.zero(dst, (valid.lowerBound - base) * w) }
        if !valid.isEmpty {
            let out = dst + (valid.lowerBound - base) * w
            let first = (valid.lowerBound + shift) * w + offset
            let total = valid.count * w
            let plane = g.height * w
            // The run may start before or end after the plane only by |offset| (padding columns): clip it.
            let skipFront = max(0, -first), skipBack = max(0, first + total - plane)
            if skipFront > 0 { VectorMath.zero(out, skipFront) }
            VectorMath.copy(out + skipFront, source + first + skipFront, total - skipFront - skipBack)
            if skipBack > 0 { VectorMath.zero(out + total - skipBack, skipBack) }
            if offset != 0 {
                let start = offset < 0 ? 0 : w - offset, count = abs(offset)
                var r = 0
                while r < valid.count {
                    VectorMath.zero(out + r * w + start, count)
                    r += 1
                }
            }
        }
        if valid.upperBound < rows.upperBound {
            (dst + (valid.upperBound - base) * w).update(repeating: 0, count: (rows.upperBound - valid.upperBound) * w)
        }
    }

    /// Transpose of `unfoldContiguous`: zeroes the wrapped entries of the column row (they belong to no input
    /// pixel), then adds the row to the input plane in one contiguous run.
    @inline(__always)
    private static func foldContiguous(
        _ src: UnsafeMutablePointer<Float>, _ g: ConvGeometry, tapRow i: Int, tapColumn j: Int, rows: Range<Int>,
        into target: UnsafeMutablePointer<Float>
    ) {
        let w = g.width, offset = j * g.dilation - g.padding, shift = i * g.dilation - g.padding
        let valid = validRows(g, tapRow: i, rows: rows)
        guard !valid.isEmpty else { return }
        let run = src + (valid.lowerBound - rows.lowerBound) * w
        if offset != 0 {
            let start = offset < 0 ? 0 : w - offset, count = abs(offset)
            var r = 0
            while r < valid.count {
                VectorMath.zero(run + r * w + start, count)
                r += 1
            }
        }
        let first = (valid.lowerBound + shift) * w + offset
        let total = valid.count * w, plane = g.height * w
        let skipFront = max(0, -first), skipBack = max(0, first + total - plane)
        let dst = target + first
        var k = skipFront
        let end = total - skipBack
        while k < end { dst[k] += run[k]; k += 1 }
    }
}
