/// Weight gradient of convolutions over few input channels (a network's stem: 1 channel, 7x7, stride 2), by dot
/// products along output rows instead of im2col + GEMM.
///
/// `dW[o][c][ky][kx] = sum_{n, oy, ox} dY[n][o][oy][ox] X[n][c][s oy + ky - p][s ox + kx - p]`. With the input split
/// into its `s x s` stride phases (`P[a][b][u][v] = Xpad[s u + a][s v + b]`, zero outside the image) the factor `X`
/// for a fixed tap and output row is a contiguous run `P[ky % s][kx % s][oy + ky / s][kx / s + ox ...]`, so 16 output
/// pixels multiply as one vector. A register tile holds 3 output channels x one kernel row (up to 7 taps): per 16
/// pixels it loads 3 vectors of `dY` and 7 of `P` for 21 fused multiply-adds, with partial sums kept per lane over a
/// chunk of images and added up at the end. (With 49 columns, im2col's GEMM for the stem,
/// `[64 x N H W] x [N H W x 49]`, spends most of its time packing. Seven tap planes, each read aligned, instead of
/// the phase planes measured no faster and cost more to build.)
///
/// Groups of 3 output channels are split over the threads, each group reduced over all images in a fixed order: results do
/// not depend on the thread count. Needs output rows of a multiple of 16 pixels (no tail lanes).
enum FewChannelWeightGradient {
    typealias Vector = SIMD16<Float>
    /// Taps per register tile (the widest kernel row supported).
    static let tileTaps = 7
    /// Images whose products one register tile accumulates before its partial sums go back to memory.
    static let imagesPerChunk = 4

    /// At most 4 input channels, kernels up to 7 wide, stride 1 or 2, no dilation, output rows a multiple of 16
    /// pixels.
    static func supports(_ g: ConvGeometry) -> Bool {
        g.batch > 0 && g.inputChannels <= 4 && g.kernelWidth <= tileTaps && g.stride <= 2 && g.dilation == 1
            && g.outputWidth % 16 == 0
    }

    /// The stride-phase planes of every image and channel, `[N Cin][s][s][phaseHeight][phaseWidth]`.
    struct Phases {
        let stride: Int
        let height: Int
        let width: Int
        var floats: Int { height * width }
        var imageFloats: Int { stride * stride * floats }
        /// One padded input row as the deinterleave reads it: 32 floats from every 16th phase column.
        var rowFloats: Int { stride * width + 48 }

        init(_ g: ConvGeometry) {
            stride = g.stride
            // rows oy + ky / s for every kernel row, columns ox + kx / s for every tap of a 7-wide tile
            height = g.outputHeight + (g.kernelHeight - 1) / g.stride
            width = g.outputWidth + (FewChannelWeightGradient.tileTaps - 1) / g.stride
        }

        /// Fills the planes of one input plane (`[H, W]`) from `source`; `row` is scratch of `rowFloats`.
        func fill(_ source: UnsafePointer<Float>, _ g: ConvGeometry, into planes: UnsafeMutablePointer<Float>,
                  row: UnsafeMutablePointer<Float>) {
            let s = stride, span = s * width
            for u in 0..<height {
                for a in 0..<s {
                    let y = s * u + a - g.padding
                    // the padded input row y, columns -padding ..< span - padding
                    row.update(repeating: 0, count: rowFloats)
                    if y >= 0 && y < g.height {
                        let first = min(g.width, span - g.padding)
                        if first > 0 { (row + g.padding).update(from: source + y * g.width, count: first) }
                    }
                    if s == 1 {
                        (planes + u * width).update(from: row, count: width)
                        continue
                    }
                    let even = planes + (a * 2) * floats + u * width, odd = planes + (a * 2 + 1) * floats + u * width
                    var v = 0
                    while v < width {
                        let pair = UnsafeRawPointer(row + 2 * v).loadUnaligned(as: SIMD32<Float>.self)
                        let count = min(16, width - v)
                        if count == 16 {
                            UnsafeMutableRawPointer(even + v).storeBytes(of: pair.evenHalf, as: Vector.self)
                            UnsafeMutableRawPointer(odd + v).storeBytes(of: pair.oddHalf, as: Vector.self)
                        } else {
                            for j in 0..<count { even[v + j] = pair[2 * j]; odd[v + j] = pair[2 * j + 1] }
                        }
                        v += 16
                    }
                }
            }
        }
    }

    /// Overwrites `gradWeight` (`[Cout, Cin, kh, kw]`) with the gradient of `sum(gradOutput * conv(input, W))`.
    static func compute(input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, geometry g: ConvGeometry,
                        gradWeight: UnsafeMutablePointer<Float>) {
        precondition(supports(g), "few-channel weight gradient does not support \(g)")
        let s = g.stride, cin = g.inputChannels, cout = g.outputChannels, kh = g.kernelHeight, kw = g.kernelWidth
        let ho = g.outputHeight, wo = g.outputWidth
        let phases = Phases(g), tileFloats = tileTaps * 16, partialFloats = cout * cin * kh * tileFloats
        ScratchPool.withBuffer(count: g.batch * cin * phases.imageFloats + partialFloats) { work in
            let planes = work, partials = work + g.batch * cin * phases.imageFloats
            parallelChunks(g.batch * cin, minimumChunk: 2) { items in
                ScratchPool.withBuffer(count: phases.rowFloats) { row in
                    for item in items {
                        phases.fill(input + item * g.height * g.width, g, into: planes + item * phases.imageFloats, row: row)
                    }
                }
            }
            parallelChunks((cout + 2) / 3) { groups in
                let firstChannel = groups.lowerBound * 3, channels = min(cout, groups.upperBound * 3) - firstChannel
                let channelFloats = cin * kh * tileFloats
                (partials + firstChannel * channelFloats).update(repeating: 0, count: channels * channelFloats)
                var n0 = 0
                while n0 < g.batch {
                    let images = n0..<min(n0 + imagesPerChunk, g.batch)
                    for group in groups {
                        // a short last group repeats its last channel; the repeat's sums are dropped
                        let o0 = group * 3, o1 = min(o0 + 1, cout - 1), o2 = min(o0 + 2, cout - 1)
                        for c in 0..<cin {
                            for ky in 0..<kh {
                                let rows = planes + (images.lowerBound * cin + c) * phases.imageFloats
                                    + (ky % s) * s * phases.floats + (ky / s) * phases.width
                                accumulateRow(
                                    gradOutput + (images.lowerBound * cout + o0) * ho * wo,
                                    gradOutput + (images.lowerBound * cout + o1) * ho * wo,
                                    gradOutput + (images.lowerBound * cout + o2) * ho * wo, dyImageStride: cout * ho * wo,
                                    tapRows: rows, phaseFloats: phases.floats, phaseWidth: phases.width, stride: s,
                                    imageStride: cin * phases.imageFloats, images: images.count, outputHeight: ho,
                                    vectors: wo / 16, partial0: partials + ((o0 * cin + c) * kh + ky) * tileFloats,
                                    partial1: o1 == o0 ? nil : partials + ((o1 * cin + c) * kh + ky) * tileFloats,
                                    partial2: o2 == o1 ? nil : partials + ((o2 * cin + c) * kh + ky) * tileFloats)
                            }
                        }
                    }
                    n0 = images.upperBound
                }
                for o in firstChannel..<(firstChannel + channels) {
                    for c in 0..<cin {
                        for ky in 0..<kh {
                            let partial = partials + ((o * cin + c) * kh + ky) * tileFloats
                            for kx in 0..<kw {
                                gradWeight[((o * cin + c) * kh + ky) * kw + kx] =
                                    UnsafeRawPointer(partial + kx * 16).loadUnaligned(as: Vector.self).sum()
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds one kernel row's products over all output rows of `images` consecutive images to the lane partials of
    /// three output channels (a nil partial: that channel repeats the previous one and is not stored). Tap `kx` of
    /// image `i` reads phase plane `kx % s` of `tapRows + i * imageStride`, shifted by `kx / s` columns (for
    /// stride 1 the single plane shifted by `kx`).
    @inline(__always)
    static func accumulateRow(
        _ dy0: UnsafePointer<Float>, _ dy1: UnsafePointer<Float>, _ dy2: UnsafePointer<Float>, dyImageStride: Int,
        tapRows: UnsafePointer<Float>, phaseFloats: Int, phaseWidth: Int, stride s: Int, imageStride: Int, images: Int,
        outputHeight: Int, vectors: Int, partial0: UnsafeMutablePointer<Float>, partial1: UnsafeMutablePointer<Float>?,
        partial2: UnsafeMutablePointer<Float>?
    ) {
        let p0 = UnsafeMutableRawPointer(partial0), p1 = UnsafeMutableRawPointer(partial1 ?? partial0)
        let p2 = UnsafeMutableRawPointer(partial2 ?? partial1 ?? partial0)
        @inline(__always) func load(_ p: UnsafeMutableRawPointer, _ k: Int) -> Vector {
            p.loadUnaligned(fromByteOffset: k * 64, as: Vector.self)
        }
        var a0 = load(p0, 0), a1 = load(p0, 1), a2 = load(p0, 2), a3 = load(p0, 3)
        var a4 = load(p0, 4), a5 = load(p0, 5), a6 = load(p0, 6)
        var b0 = load(p1, 0), b1 = load(p1, 1), b2 = load(p1, 2), b3 = load(p1, 3)
        var b4 = load(p1, 4), b5 = load(p1, 5), b6 = load(p1, 6)
        var c0 = load(p2, 0), c1 = load(p2, 1), c2 = load(p2, 2), c3 = load(p2, 3)
        var c4 = load(p2, 4), c5 = load(p2, 5), c6 = load(p2, 6)
        let dyRowBytes = vectors &* 64, rowBytes = phaseWidth &* 4
        // tap kx reads (kx even ? even : odd) + (kx / 2) * step floats: constant offsets from two pointers
        @inline(__always) func run(step: Int) {
            let e = step * 4
            for image in 0..<images {
                let even = UnsafeRawPointer(tapRows + image * imageStride)
                let odd = s == 1 ? even + 4 : even + phaseFloats * 4
                var d0 = UnsafeRawPointer(dy0 + image * dyImageStride), d1 = UnsafeRawPointer(dy1 + image * dyImageStride)
                var d2 = UnsafeRawPointer(dy2 + image * dyImageStride)
                var o = 0
                for _ in 0..<outputHeight {
                    var v = 0
                    while v < dyRowBytes {
                        let x0 = d0.loadUnaligned(fromByteOffset: v, as: Vector.self)
                        let x1 = d1.loadUnaligned(fromByteOffset: v, as: Vector.self)
                        let x2 = d2.loadUnaligned(fromByteOffset: v, as: Vector.self)
                        let at = o &+ v
                        var t = even.loadUnaligned(fromByteOffset: at, as: Vector.self)
                        a0.addProduct(x0, t); b0.addProduct(x1, t); c0.addProduct(x2, t)
                        t = odd.loadUnaligned(fromByteOffset: at, as: Vector.self)
                        a1.addProduct(x0, t); b1.addProduct(x1, t); c1.addProduct(x2, t)
                        t = even.loadUnaligned(fromByteOffset: at + e, as: Vector.self)
                        a2.addProduct(x0, t); b2.addProduct(x1, t); c2.addProduct(x2, t)
                        t = odd.loadUnaligned(fromByteOffset: at + e, as: Vector.self)
                        a3.addProduct(x0, t); b3.addProduct(x1, t); c3.addProduct(x2, t)
                        t = even.loadUnaligned(fromByteOffset: at + 2 * e, as: Vector.self)
                        a4.addProduct(x0, t); b4.addProduct(x1, t); c4.addProduct(x2, t)
                        t = odd.loadUnaligned(fromByteOffset: at + 2 * e, as: Vector.self)
                        a5.addProduct(x0, t); b5.addProduct(x1, t); c5.addProduct(x2, t)
                        t = even.loadUnaligned(fromByteOffset: at + 3 * e, as: Vector.self)
                        a6.addProduct(x0, t); b6.addProduct(x1, t); c6.addProduct(x2, t)
                        v = v &+ 64
                    }
                    d0 += dyRowBytes
                    d1 += dyRowBytes
                    d2 += dyRowBytes
                    o = o &+ rowBytes
                }
            }
        }
        if s == 2 { run(step: 1) } else { run(step: 2) }
        @inline(__always) func store(_ p: UnsafeMutableRawPointer, _ k: Int, _ v: Vector) {
            p.storeBytes(of: v, toByteOffset: k * 64, as: Vector.self)
        }
        store(p0, 0, a0); store(p0, 1, a1); store(p0, 2, a2); store(p0, 3, a3)
        store(p0, 4, a4); store(p0, 5, a5); store(p0, 6, a6)
        if partial1 != nil {
            store(p1, 0, b0); store(p1, 1, b1); store(p1, 2, b2); store(p1, 3, b3)
            store(p1, 4, b4); store(p1, 5, b5); store(p1, 6, b6)
        }
        if partial2 != nil {
            store(p2, 0, c0); store(p2, 1, c1); store(p2, 2, c2); store(p2, 3, c3)
            store(p2, 4, c4); store(p2, 5, c5); store(p2, 6, c6)
        }
    }
}

extension FewChannelWeightGradient: ConvolutionKernel {
    static let family = ConvolutionFamily.direct

    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool {
        pass == .weightGradient && supports(g)
    }

    /// Every supported weight gradient, on CPUs with wide vectors.
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        cpu.hasWideVectors
    }

    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?) {
        precondition(gradInput == nil, "FewChannelWeightGradient computes weight gradients only")
        if let gradWeight { compute(input: input, gradOutput: gradOutput, geometry: g, gradWeight: gradWeight) }
    }
}
