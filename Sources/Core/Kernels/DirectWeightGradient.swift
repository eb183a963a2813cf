/// Weight gradient of a convolution by a register-blocked reduction over output pixels, with no im2col matrix: the
/// weight-update counterpart of `DirectConvolution`, on a channels-last copy of the input.
///
/// `dW[o][c][t] = sum_q dY[q][o] X[q + offset_t][c]` over the output pixels `q` of the batch whose tap `t` reads
/// inside the input (the others would add products with zero padding, 8-16 % of the work on ResNet18's 8x8 and 16x16
/// maps). A tile is 32 output channels (two 16-lane vectors of a channels-last copy of `dY`) x 12 consecutive input
/// channels at one tap (12 broadcasts from one pixel's run of the input): per pixel 2 vector loads and 12 broadcasts
/// feed 24 fused multiply-adds into 24 accumulators (tiles of 8 channels, 16 accumulators, take the rest of the
/// channels; see `channelBlocks`). Pixels go in blocks of `blockPixels`; every tile of a thread passes over a
/// block while its `dY` rows and input pixels are still in cache, and tiles keep their partial sums in memory between
/// blocks. Tiles are split over the threads, each reduced over its pixels in a fixed order: results do not depend on
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
    /// over at least 32 output channels, on output maps larger than `TapConvolution`'s, and on maps of 16-25 pixels
    /// when the weights have at most 2^20 entries. Measured against the tap-wise products (A/B, backward of ResNet18's
    /// shapes): 4x4 maps `64-l3-256x256-k3s1` 0.82-0.87x, `64-l3-128x256-k3s2` 0.92-1.02x; larger weights lose, as
    /// every 256-pixel block reads and writes all partial sums (`150-l4` on 5x5 maps 1.02-1.06x, `64-l4` on 2x2 maps
    /// 1.12-1.45x, where the tap-wise products of depth `Cin` over few pixels pack well).
    static func prefers(_ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        guard DirectConvolution.prefersForward(g, on: cpu) && g.outputChannels >= tileOutputs else { return false }
        return g.outputPlane > TapConvolution.maximumPlane
            || (g.outputPlane >= 16 && g.outputChannels * g.patchSize <= 1 << 20)
    }

    /// Per tap, the output pixels whose tap reads inside the input, cut at pixel-block boundaries (built once per
    /// geometry and cached).
    final class Plan: @unchecked Sendable {
        /// Per output pixel (image-major): offset of its tap (0, 0) in the channels-last input `[N, H, W, Cin]`
        /// (outside the image for border pixels: only their valid taps read).
        let bases: [Int]
        /// The valid pixels of every tap, tap after tap, each tap's ascending.
        let validPixels: [Int32]
        /// `validPixels[blockBounds[t * (blocks + 1) + b] ..< blockBounds[t * (blocks + 1) + b + 1]]`: tap `t`'s valid
        /// pixels in block `b` (pixels `b * blockPixels ..< (b + 1) * blockPixels`).
        let blockBounds: [Int]
        let blocks: Int

        init(_ g: ConvGeometry) {
            let cin = g.inputChannels, wo = g.outputWidth, plane = g.outputPlane, pixels = g.batch * plane
            let imageFloats = g.inputPlane * cin
            blocks = (pixels + DirectWeightGradient.blockPixels - 1) / DirectWeightGradient.blockPixels
            var bases = [Int](repeating: 0, count: pixels), validPixels: [Int32] = [], blockBounds: [Int] = []
            for q in 0..<pixels {
                let n = q / plane, p = q - n * plane
                let y = (p / wo) * g.stride - g.padding, x = (p % wo) * g.stride - g.padding
                bases[q] = n * imageFloats + (y * g.width + x) * cin
            }
            for t in 0..<(g.kernelHeight * g.kernelWidth) {
                let dy = (t / g.kernelWidth) * g.dilation - g.padding, dx = (t % g.kernelWidth) * g.dilation - g.padding
                let (y0, y1) = ConvGeometry.validRange(offset: dy, extent: g.height, stride: g.stride, outputs: g.outputHeight)
                let (x0, x1) = ConvGeometry.validRange(offset: dx, extent: g.width, stride: g.stride, outputs: wo)
                for q in 0..<pixels {
                    if q % DirectWeightGradient.blockPixels == 0 { blockBounds.append(validPixels.count) }
                    let p = q % plane, y = p / wo, x = p % wo
                    if y >= y0 && y < y1 && x >= x0 && x < x1 { validPixels.append(Int32(q)) }
                }
                blockBounds.append(validPixels.count)
            }
            self.bases = bases
            self.validPixels = validPixels
            self.blockBounds = blockBounds
        }
    }

    /// Plans by geometry; emptied past 2^23 valid (tap, pixel) pairs in total.
    private static let plans = LockedCache<ConvGeometry, Plan>(limit: 1 << 23, size: { $0.validPixels.count })

    /// The cached plan for `g`.
    static func plan(_ g: ConvGeometry) -> Plan { plans.value(for: g) { Plan(g) } }

    /// Overwrites `gradWeight` (`[Cout, Cin, kh, kw]`) with the gradient of `sum(gradOutput * conv(input, W))`.
    /// `channelsLastGradOutput`, when given (only for `Cout` a multiple of 32), is `gradOutput` already in
    /// `[N, Ho, Wo, Cout]` layout.
    static func compute(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, geometry g: ConvGeometry,
                        gradWeight: UnsafeMutablePointer<Float>, channelsLastGradOutput: UnsafePointer<Float>? = nil) {
        guard g.batch > 0 else { gradWeight.update(repeating: 0, count: g.outputChannels * g.patchSize); return }
        let plan = plan(g)
        let cin = g.inputChannels, cout = g.outputChannels, k2 = g.kernelHeight * g.kernelWidth, plane = g.outputPlane
        let inputFloats = g.batch * g.inputPlane * cin
        let pixels = g.batch * plane, panels = (cout + tileOutputs - 1) / tileOutputs, ldy = panels * tileOutputs
        let blocks = channelBlocks(cin), channelBlocks = blocks.count, tiles = panels * k2 * channelBlocks
        let tileFloats = tileChannels * tileOutputs
        // channels-last input (+ slack: a short channel block reads past the last pixel), channels-last dY, partial sums
        precondition(channelsLastGradOutput == nil || ldy == cout, "a shared channels-last dY needs Cout % 32 == 0")
        let sizes = [inputFloats + 16, channelsLastGradOutput == nil ? pixels * ldy : 0, tiles * tileFloats]
        ScratchPool.withBuffer(count: sizes.reduce(0, +)) { work in
            let channelsLast = work, dyCopy = channelsLast + sizes[0], partials = dyCopy + sizes[1]
            parallelFor(g.batch) { image in
                Transpose.matrix(input + image * cin * g.inputPlane, lds: g.inputPlane,
                                 channelsLast + image * g.inputPlane * cin, ldd: cin, rows: cin, columns: g.inputPlane)
                guard channelsLastGradOutput == nil else { return }
                let rows = dyCopy + image * plane * ldy
                Transpose.matrix(gradOutput + image * cout * plane, lds: plane, rows, ldd: ldy, rows: cout, columns: plane)
                if ldy > cout { for p in 0..<plane { (rows + p * ldy + cout).update(repeating: 0, count: ldy - cout) } }
            }
            let dy = channelsLastGradOutput ?? UnsafePointer(dyCopy)
            (channelsLast + inputFloats).update(repeating: 0, count: 16)
            plan.bases.withUnsafeBufferPointer { bases in
            plan.validPixels.withUnsafeBufferPointer { validPixels in
                parallelChunks(tiles) { mine in
                    (partials + mine.lowerBound * tileFloats).update(repeating: 0, count: mine.count * tileFloats)
                    for b in 0..<plan.blocks {
                        for tile in mine {
                            // tile = (panel * k2 + t) * channelBlocks + block
                            let block = tile % channelBlocks, t = (tile / channelBlocks) % k2
                            let panel = tile / (channelBlocks * k2)
                            let first = plan.blockBounds[t * (plan.blocks + 1) + b]
                            let count = plan.blockBounds[t * (plan.blocks + 1) + b + 1] - first
                            guard count > 0 else { continue }
                            let tapOffset = ((t / g.kernelWidth) * g.dilation * g.width
                                + (t % g.kernelWidth) * g.dilation) * cin
                            let input = channelsLast + tapOffset + blocks[block].lowerBound
                            let dyPanel = dy + panel * tileOutputs, partial = partials + tile * tileFloats
                            let pixelList = validPixels.baseAddress! + first
                            if blocks[block].count == narrowChannels {
                                accumulate(dy: dyPanel, ldy: ldy, input: input, bases: bases.baseAddress!, pixels: pixelList,
                                           count: count, partial: partial, wide: false)
                            } else {
                                accumulate(dy: dyPanel, ldy: ldy, input: input, bases: bases.baseAddress!, pixels: pixelList,
                                           count: count, partial: partial, wide: true)
                            }
                        }
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
            } }
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

    /// Adds `count` pixels' products to one tile's partial sums (`[12 input channels][32 outputs]`; the first 8
    /// channels only when not `wide`: callers pass a literal, so each call site compiles to one of the two kernels).
    @inline(__always)
    static func accumulate(dy: UnsafePointer<Float>, ldy: Int, input: UnsafePointer<Float>, bases: UnsafePointer<Int>,
                           pixels: UnsafePointer<Int32>, count: Int, partial: UnsafeMutablePointer<Float>, wide: Bool) {
        let p = UnsafeMutableRawPointer(partial)
        @inline(__always) func load(_ k: Int) -> Vector { p.loadUnaligned(fromByteOffset: k * 64, as: Vector.self) }
        var l0 = load(0), h0 = load(1), l1 = load(2), h1 = load(3), l2 = load(4), h2 = load(5)
        var l3 = load(6), h3 = load(7), l4 = load(8), h4 = load(9), l5 = load(10), h5 = load(11)
        var l6 = load(12), h6 = load(13), l7 = load(14), h7 = load(15), l8 = load(16), h8 = load(17)
        var l9 = load(18), h9 = load(19), l10 = load(20), h10 = load(21), l11 = load(22), h11 = load(23)
        let rowBytes = ldy &* 4
        for i in 0..<count {
            let q = Int(pixels[i]), d = UnsafeRawPointer(dy) + q &* rowBytes
            let lo = d.loadUnaligned(as: Vector.self), hi = d.loadUnaligned(fromByteOffset: 64, as: Vector.self)
            let x = input + bases[q]
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
        }
        @inline(__always) func store(_ k: Int, _ v: Vector) { p.storeBytes(of: v, toByteOffset: k * 64, as: Vector.self) }
        store(0, l0); store(1, h0); store(2, l1); store(3, h1); store(4, l2); store(5, h2)
        store(6, l3); store(7, h3); store(8, l4); store(9, h4); store(10, l5); store(11, h5)
        store(12, l6); store(13, h6); store(14, l7); store(15, h7)
        guard wide else { return }
        store(16, l8); store(17, h8); store(18, l9); store(19, h9); store(20, l10); store(21, h10); store(22, l11); store(23, h11)
    }
}
