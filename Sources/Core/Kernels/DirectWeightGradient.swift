/// Weight gradient of a convolution by a register-blocked reduction over output pixels, with no im2col matrix: the
/// weight-update counterpart of `DirectConvolution`, on a zero-padded channels-last copy of the input (its
/// reduction runs every tap for every pixel, so the border must hold zeros).
///
/// `dW[o][c][t] = sum_q dY[q][o] X[q + offset_t][c]` over all output pixels `q` of the batch. A tile is 32 output
/// channels (two 16-lane vectors of a channels-last copy of `dY`) x 12 consecutive input channels at one tap (12
/// broadcasts from one pixel's run of the padded input): per pixel 2 vector loads and 12 broadcasts feed 24 fused
/// multiply-adds into 24 accumulators (tiles of 8 channels, 16 accumulators, take the rest of the channels; see
/// `channelBlocks`). Pixels go in blocks of `blockPixels`; every tile of a thread passes over a
/// block while its `dY` rows and input pixels are still in cache, and tiles keep their partial sums in memory between
/// blocks. Tiles are split over the threads, each reduced over all pixels in a fixed order: results do not depend on
/// the thread count.
enum DirectWeightGradient {
    typealias Vector = SIMD16<Float>
    /// Input channels per tile (broadcast operands).
    static let tileChannels = 12
    /// Output channels per tile (two 16-lane vectors).
    static let tileOutputs = 32
    /// Output pixels per block.
    static let blockPixels = 256

    /// Whether automatic routing computes `g`'s weight gradient here: where `DirectConvolution` runs the forward,
    /// over at least 32 output channels, on output maps larger than `TapConvolution`'s (the reduction does not skip
    /// taps that read padding, which on 2x2 and 5x5 maps are a large share: measured 1.1-2x slower there than the
    /// tap-wise products, 0.84-0.98x of im2col on the larger maps).
    static func applies(to g: ConvGeometry) -> Bool {
        DirectConvolution.applies(to: g) && g.outputChannels >= tileOutputs && g.outputPlane > TapConvolution.maximumPlane
    }

    /// Overwrites `gradWeight` (`[Cout, Cin, kh, kw]`) with the gradient of `sum(gradOutput * conv(input, W))`.
    static func compute(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, geometry g: ConvGeometry,
                        gradWeight: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { gradWeight.update(repeating: 0, count: g.outputChannels * g.patchSize); return }
        let paddedHeight = g.height + 2 * g.padding, paddedWidth = g.width + 2 * g.padding
        let imageFloats = paddedHeight * paddedWidth * g.inputChannels, paddedFloats = g.batch * imageFloats
        let cin = g.inputChannels, cout = g.outputChannels, k2 = g.kernelHeight * g.kernelWidth, plane = g.outputPlane
        let pixels = g.batch * plane, panels = (cout + tileOutputs - 1) / tileOutputs, ldy = panels * tileOutputs
        let blocks = channelBlocks(cin), channelBlocks = blocks.count, tiles = panels * k2 * channelBlocks
        let tileFloats = tileChannels * tileOutputs
        // padded input (+ slack: a short channel block reads past the last pixel), channels-last dY, partial sums
        let sizes = [paddedFloats + 16, pixels * ldy, tiles * tileFloats]
        ScratchPool.withBuffer(count: sizes.reduce(0, +)) { work in
            let padded = work, dy = padded + sizes[0], partials = dy + sizes[1]
            padInput(input, g, into: padded)
            (padded + paddedFloats).update(repeating: 0, count: 16)
            parallelFor(g.batch) { image in
                let rows = dy + image * plane * ldy
                Transpose.matrix(gradOutput + image * cout * plane, lds: plane, rows, ldd: ldy, rows: cout, columns: plane)
                if ldy > cout { for p in 0..<plane { (rows + p * ldy + cout).update(repeating: 0, count: ldy - cout) } }
            }
            // offset of each output pixel's tap (0, 0) in the padded input, image-major
            var bases = [Int](repeating: 0, count: pixels)
            for image in 0..<g.batch {
                for oy in 0..<g.outputHeight {
                    for ox in 0..<g.outputWidth {
                        bases[(image * g.outputHeight + oy) * g.outputWidth + ox] =
                            image * imageFloats + (oy * g.stride * paddedWidth + ox * g.stride) * cin
                    }
                }
            }
            bases.withUnsafeBufferPointer { bases in
                parallelChunks(tiles) { mine in
                    (partials + mine.lowerBound * tileFloats).update(repeating: 0, count: mine.count * tileFloats)
                    var first = 0
                    while first < pixels {
                        let count = min(blockPixels, pixels - first)
                        for tile in mine {
                            // tile = (panel * k2 + t) * channelBlocks + block
                            let block = tile % channelBlocks, t = (tile / channelBlocks) % k2
                            let panel = tile / (channelBlocks * k2)
                            let tapOffset = ((t / g.kernelWidth) * g.dilation * paddedWidth
                                + (t % g.kernelWidth) * g.dilation) * cin
                            let input = padded + tapOffset + blocks[block].lowerBound
                            let dyBlock = dy + first * ldy + panel * tileOutputs, partial = partials + tile * tileFloats
                            if blocks[block].count == narrowChannels {
                                accumulate(dy: dyBlock, ldy: ldy, input: input, bases: bases.baseAddress! + first,
                                           count: count, partial: partial, wide: false)
                            } else {
                                accumulate(dy: dyBlock, ldy: ldy, input: input, bases: bases.baseAddress! + first,
                                           count: count, partial: partial, wide: true)
                            }
                        }
                        first += count
                    }
                    for tile in mine {
                        let block = tile % channelBlocks, t = (tile / channelBlocks) % k2
                        let panel = tile / (channelBlocks * k2), partial = partials + tile * tileFloats
                        for (j, c) in blocks[block].enumerated() {
                            for o in 0..<min(tileOutputs, cout - panel * tileOutputs) {
                                gradWeight[((panel * tileOutputs + o) * cin + c) * k2 + t] = partial[j * tileOutputs + o]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Input channels of a narrow tile (eight broadcasts, 16 accumulators).
    static let narrowChannels = 8

    /// The input-channel blocks of the tiles: 12 wide, with the rest of a multiple of 4 as one or two blocks of 8, so
    /// that no broadcast lane idles (64 channels: 4 x 12 + 2 x 8 instead of 6 x 12 with the last block a third used);
    /// other channel counts end in one partial 12-wide block.
    static func channelBlocks(_ cin: Int) -> [Range<Int>] {
        let narrow = cin % 4 == 0 && cin >= 16 ? [0, 2, 1][(cin % tileChannels) / 4] : (cin == narrowChannels ? 1 : 0)
        let wideEnd = cin - narrow * narrowChannels
        var blocks = stride(from: 0, to: wideEnd, by: tileChannels).map { $0..<min($0 + tileChannels, wideEnd) }
        for k in 0..<narrow { blocks.append((wideEnd + k * narrowChannels)..<(wideEnd + (k + 1) * narrowChannels)) }
        return blocks
    }

    /// NCHW input -> `[N, H + 2 padding, W + 2 padding, Cin]` with a zero border: each image's `[Cin][H W]` planes are
    /// transposed whole (rows of a few pixels would leave most 16 x 16 blocks partial), then copied row by row past
    /// the border.
    static func padInput(_ input: UnsafePointer<Float>, _ g: ConvGeometry, into padded: UnsafeMutablePointer<Float>) {
        let cin = g.inputChannels, h = g.height, w = g.width, pad = g.padding
        let hp = h + 2 * pad, wp = w + 2 * pad, imageFloats = hp * wp * cin, rowFloats = w * cin
        parallelChunks(g.batch) { images in
            if pad == 0 {
                for n in images {
                    Transpose.matrix(input + n * cin * h * w, lds: h * w, padded + n * imageFloats, ldd: cin,
                                     rows: cin, columns: h * w)
                }
                return
            }
            ScratchPool.withBuffer(count: h * rowFloats) { staging in
                for n in images {
                    Transpose.matrix(input + n * cin * h * w, lds: h * w, staging, ldd: cin, rows: cin, columns: h * w)
                    let image = padded + n * imageFloats
                    image.update(repeating: 0, count: pad * wp * cin + pad * cin)
                    for y in 0..<h {
                        let row = image + ((y + pad) * wp + pad) * cin
                        row.update(from: staging + y * rowFloats, count: rowFloats)
                        // right border of this row and left border of the next
                        (row + rowFloats).update(repeating: 0, count: (wp - w) * cin)
                    }
                    let written = ((pad + h) * wp + pad) * cin
                    (image + written).update(repeating: 0, count: imageFloats - written)
                }
            }
        }
    }

    /// Adds `count` pixels' products to one tile's partial sums (`[12 input channels][32 outputs]`; the first 8
    /// channels only when not `wide`: callers pass a literal, so each call site compiles to one of the two kernels).
    @inline(__always)
    static func accumulate(dy: UnsafePointer<Float>, ldy: Int, input: UnsafePointer<Float>, bases: UnsafePointer<Int>,
                           count: Int, partial: UnsafeMutablePointer<Float>, wide: Bool) {
        let p = UnsafeMutableRawPointer(partial)
        @inline(__always) func load(_ k: Int) -> Vector { p.loadUnaligned(fromByteOffset: k * 64, as: Vector.self) }
        var l0 = load(0), h0 = load(1), l1 = load(2), h1 = load(3), l2 = load(4), h2 = load(5)
        var l3 = load(6), h3 = load(7), l4 = load(8), h4 = load(9), l5 = load(10), h5 = load(11)
        var l6 = load(12), h6 = load(13), l7 = load(14), h7 = load(15), l8 = load(16), h8 = load(17)
        var l9 = load(18), h9 = load(19), l10 = load(20), h10 = load(21), l11 = load(22), h11 = load(23)
        var d = UnsafeRawPointer(dy)
        let step = ldy &* 4
        for i in 0..<count {
            let lo = d.loadUnaligned(as: Vector.self), hi = d.loadUnaligned(fromByteOffset: 64, as: Vector.self)
            let x = input + bases[i]
            var b = Vector(repeating: x[0]); l0.addProduct(lo, b); h0.addProduct(hi, b)
            b = Vector(repeating: x[1]); l1.addProduct(lo, b); h1.addProduct(hi, b)
            b = Vector(repeating: x[2]); l2.addProduct(lo, b); h2.addProduct(hi, b)
            b = Vector(repeating: x[3]); l3.addProduct(lo, b); h3.addProduct(hi, b)
            b = Vector(repeating: x[4]); l4.addProduct(lo, b); h4.addProduct(hi, b)
            b = Vector(repeating: x[5]); l5.addProduct(lo, b); h5.addProduct(hi, b)
            b = Vector(repeating: x[6]); l6.addProduct(lo, b); h6.addProduct(hi, b)
            b = Vector(repeating: x[7]); l7.addProduct(lo, b); h7.addProduct(hi, b)
            if wide {
                b = Vector(repeating: x[8]); l8.addProduct(lo, b); h8.addProduct(hi, b)
                b = Vector(repeating: x[9]); l9.addProduct(lo, b); h9.addProduct(hi, b)
                b = Vector(repeating: x[10]); l10.addProduct(lo, b); h10.addProduct(hi, b)
                b = Vector(repeating: x[11]); l11.addProduct(lo, b); h11.addProduct(hi, b)
            }
            d += step
        }
        @inline(__always) func store(_ k: Int, _ v: Vector) { p.storeBytes(of: v, toByteOffset: k * 64, as: Vector.self) }
        store(0, l0); store(1, h0); store(2, l1); store(3, h1); store(4, l2); store(5, h2)
        store(6, l3); store(7, h3); store(8, l4); store(9, h4); store(10, l5); store(11, h5)
        store(12, l6); store(13, h6); store(14, l7); store(15, h7)
        guard wide else { return }
        store(16, l8); store(17, h8); store(18, l9); store(19, h9); store(20, l10); store(21, h10); store(22, l11); store(23, h11)
    }
}
