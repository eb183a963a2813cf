/// Forward pass of 1x1 convolutions (any stride and padding: ResNet's downsampling shortcuts) by a register-blocked
/// kernel that reads the weights in place and writes the NCHW output directly.
///
/// Per image a 1x1 convolution is the product `Y[o, p] = sum_c W[o, c] X[c, s p - pad]`. The output pixels of all
/// images, in NCHW order (`q = n Ho Wo + p`), are cut into blocks of 32. A block's input pixels are gathered into a
/// `[Cin][32]` buffer (stride 2: eight at a time from one 16-wide load), and a tile of 12 output channels x 32 pixels
/// keeps its 24 sixteen-lane accumulators in registers over the whole `Cin` reduction: per input channel two vector
/// loads from the block and 12 broadcast weights, read straight from the `[Cout, Cin]` weight rows (12 sequential
/// streams). The tile's results go straight into NCHW; a block straddles images when `Ho Wo` is not a multiple of
/// 32, so its plan lists the runs of pixels that share an image.
///
/// The im2col and tap-wise GEMM paths run the same product through OpenBLAS on a `[Cin, N Ho Wo]` copy and then
/// copy the `[Cout, N Ho Wo]` result into NCHW; here the only layout work is the gather (a quarter of the input
/// at stride 2), done by the thread that uses it just before its tiles. Work is split over the threads as contiguous
/// ranges of (block, channel group) tiles, so each thread gets the same number of multiply-adds; every output element
/// is computed by one tile in a fixed order, so results do not depend on the thread count.
///
/// Fast only when compiled for 512-bit vectors (`CPUFeatures.hasWideVectors`).
enum PointwiseConvolution {
    typealias Vector = SIMD16<Float>
    /// Output pixels per block (two 16-lane vectors).
    static let blockPixels = 32
    /// Output channels per tile (broadcast operands).
    static let tileChannels = 12

    /// A run of consecutive block positions whose input pixels are one strided row segment (or padding).
    struct Run {
        /// First position in the block.
        let position: Int
        let count: Int
        /// Offset of the first pixel's channel 0 in the NCHW input, or -1 for padding (zeros).
        let source: Int
    }

    /// A run of consecutive block positions in one image: where their channel-0 outputs start in the NCHW output.
    struct Segment {
        let position: Int
        let count: Int
        let output: Int
    }

    /// Gather runs and output segments of every block of one geometry (built once and cached).
    final class Plan: @unchecked Sendable {
        let geometry: ConvGeometry
        let blocks: Int
        let runs: [Run]
        /// Block `b`'s runs are `runs[runStart[b] ..< runStart[b + 1]]`.
        let runStart: [Int]
        let segments: [Segment]
        /// Block `b`'s segments are `segments[segmentStart[b] ..< segmentStart[b + 1]]`.
        let segmentStart: [Int]

        init(_ g: ConvGeometry) {
            precondition(g.kernelHeight == 1 && g.kernelWidth == 1, "pointwise convolution needs a 1x1 kernel, got \(g)")
            geometry = g
            let plane = g.outputPlane, wo = g.outputWidth, pixels = g.batch * plane
            let imageInput = g.inputChannels * g.inputPlane, imageOutput = g.outputChannels * plane
            blocks = (pixels + PointwiseConvolution.blockPixels - 1) / PointwiseConvolution.blockPixels
            /// The input offset of output pixel `q`, -1 in the padding or past the last pixel.
            func source(_ q: Int) -> Int {
                guard q < pixels else { return -1 }
                let n = q / plane, p = q - n * plane
                let y = (p / wo) * g.stride - g.padding, x = (p % wo) * g.stride - g.padding
                guard y >= 0 && y < g.height && x >= 0 && x < g.width else { return -1 }
                return n * imageInput + y * g.width + x
            }
            var runs: [Run] = [], runStart = [0], segments: [Segment] = [], segmentStart = [0]
            for b in 0..<blocks {
                let first = b * PointwiseConvolution.blockPixels
                var j = 0
                while j < PointwiseConvolution.blockPixels {
                    // a run continues along one output row while the sources stay padding or step by the stride
                    let q = first + j, start = source(q), row = q / wo
                    var count = 1
                    while j + count < PointwiseConvolution.blockPixels {
                        let next = first + j + count, s = source(next)
                        let continues = start < 0 ? s < 0 : (next / wo == row && s == start + count * g.stride)
                        guard continues else { break }
                        count += 1
                    }
                    runs.append(Run(position: j, count: count, source: start))
                    j += count
                }
                runStart.append(runs.count)
                j = 0
                while j < PointwiseConvolution.blockPixels && first + j < pixels {
                    let n = (first + j) / plane, p = first + j - n * plane
                    let count = min(PointwiseConvolution.blockPixels - j, plane - p, pixels - first - j)
                    segments.append(Segment(position: j, count: count, output: n * imageOutput + p))
                    j += count
                }
                segmentStart.append(segments.count)
            }
            self.runs = runs
            self.runStart = runStart
            self.segments = segments
            self.segmentStart = segmentStart
        }

        var channelGroups: Int { (geometry.outputChannels + PointwiseConvolution.tileChannels - 1) / PointwiseConvolution.tileChannels }
    }

    /// Plans by geometry; emptied past 2^18 blocks in total.
    private static let plans = LockedCache<ConvGeometry, Plan>(limit: 1 << 18, size: { $0.blocks })

    /// The cached plan for `g`.
    static func plan(_ g: ConvGeometry) -> Plan { plans.value(for: g) { Plan(g) } }

    /// `output = conv(input, weight)` (no bias) for a 1x1 `g`; `output` is fully written. Shapes as in
    /// `ConvolutionKernel`.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                               output: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { return }
        let plan = plan(g), groups = plan.channelGroups, cin = g.inputChannels, cout = g.outputChannels
        let inputFloats = g.batch * cin * g.inputPlane
        plan.runs.withUnsafeBufferPointer { runs in
        plan.segments.withUnsafeBufferPointer { segments in
            parallelChunks(plan.blocks * groups) { tiles in
                // one block of gathered input, 64-byte aligned, with room for the gathers' overshoot
                ScratchPool.withBuffer(count: cin * blockPixels + 32) { work in
                    let block = DirectConvolution.aligned(work)
                    var gathered = -1
                    for tile in tiles {
                        let b = tile / groups, group = tile - b * groups
                        if b != gathered {
                            let blockRuns = runs.baseAddress! + plan.runStart[b]
                            gather(input, inputFloats: inputFloats, g, runs: blockRuns,
                                   count: plan.runStart[b + 1] - plan.runStart[b], into: block)
                            gathered = b
                        }
                        let first = group * tileChannels
                        computeTile(block: block, weights: weight + first * cin, channels: min(tileChannels, cout - first),
                                    inputChannels: cin, output: output + first * g.outputPlane, plane: g.outputPlane,
                                    segments: segments.baseAddress! + plan.segmentStart[b],
                                    segmentCount: plan.segmentStart[b + 1] - plan.segmentStart[b])
                    }
                }
            }
        } }
    }

    /// Fills `block[c * 32 + j]` with input channel `c` of the block's pixel `j` (zero for padding). Runs are
    /// written in increasing position, so a vector store that overshoots its run lands on positions written later
    /// (or on the buffer's 32 spare floats).
    static func gather(_ input: UnsafePointer<Float>, inputFloats: Int, _ g: ConvGeometry, runs: UnsafePointer<Run>,
                       count: Int, into block: UnsafeMutablePointer<Float>) {
        let plane = g.inputPlane, s = g.stride
        for c in 0..<g.inputChannels {
            let row = block + c * blockPixels
            for r in 0..<count {
                let run = runs[r], dst = row + run.position
                guard run.source >= 0 else {
                    for i in 0..<run.count { dst[i] = 0 }
                    continue
                }
                let offset = run.source + c * plane, src = input + offset, readable = inputFloats - offset
                var i = 0
                if s == 2 {
                    while i < run.count && 2 * i + 16 <= readable {
                        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: Vector.self)
                        UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                        i += 8
                    }
                } else if s == 1 {
                    while i < run.count && i + 16 <= readable {
                        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: Vector.self),
                                                                    as: Vector.self)
                        i += 16
                    }
                }
                while i < run.count { dst[i] = src[i * s]; i += 1 }
            }
        }
    }

    /// One tile: `channels <= 12` output channels (weight rows `weights + r * Cin`) x the block's 32 pixels, reduced
    /// over all input channels and stored to `output + segment.output + r * plane` for each segment of the block.
    static func computeTile(
        block: UnsafePointer<Float>, weights: UnsafePointer<Float>, channels: Int, inputChannels: Int,
        output: UnsafeMutablePointer<Float>, plane: Int, segments: UnsafePointer<Segment>, segmentCount: Int
    ) {
        // rows past `channels` repeat the first one; their results are dropped
        @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { weights + (r < channels ? r : 0) * inputChannels }
        let w0 = row(0), w1 = row(1), w2 = row(2), w3 = row(3), w4 = row(4), w5 = row(5)
        let w6 = row(6), w7 = row(7), w8 = row(8), w9 = row(9), w10 = row(10), w11 = row(11)
        var l0 = Vector(), l1 = Vector(), l2 = Vector(), l3 = Vector(), l4 = Vector(), l5 = Vector()
        var l6 = Vector(), l7 = Vector(), l8 = Vector(), l9 = Vector(), l10 = Vector(), l11 = Vector()
        var h0 = Vector(), h1 = Vector(), h2 = Vector(), h3 = Vector(), h4 = Vector(), h5 = Vector()
        var h6 = Vector(), h7 = Vector(), h8 = Vector(), h9 = Vector(), h10 = Vector(), h11 = Vector()
        var x = UnsafeRawPointer(block)
        for c in 0..<inputChannels {
            let lo = x.load(as: Vector.self), hi = x.load(fromByteOffset: 64, as: Vector.self)
            var w = Vector(repeating: w0[c]); l0.addProduct(lo, w); h0.addProduct(hi, w)
            w = Vector(repeating: w1[c]); l1.addProduct(lo, w); h1.addProduct(hi, w)
            w = Vector(repeating: w2[c]); l2.addProduct(lo, w); h2.addProduct(hi, w)
            w = Vector(repeating: w3[c]); l3.addProduct(lo, w); h3.addProduct(hi, w)
            w = Vector(repeating: w4[c]); l4.addProduct(lo, w); h4.addProduct(hi, w)
            w = Vector(repeating: w5[c]); l5.addProduct(lo, w); h5.addProduct(hi, w)
            w = Vector(repeating: w6[c]); l6.addProduct(lo, w); h6.addProduct(hi, w)
            w = Vector(repeating: w7[c]); l7.addProduct(lo, w); h7.addProduct(hi, w)
            w = Vector(repeating: w8[c]); l8.addProduct(lo, w); h8.addProduct(hi, w)
            w = Vector(repeating: w9[c]); l9.addProduct(lo, w); h9.addProduct(hi, w)
            w = Vector(repeating: w10[c]); l10.addProduct(lo, w); h10.addProduct(hi, w)
            w = Vector(repeating: w11[c]); l11.addProduct(lo, w); h11.addProduct(hi, w)
            x += 128
        }
        // [12][32]: row r holds channel r's 32 pixels
        let results = (l0, h0, l1, h1, l2, h2, l3, h3, l4, h4, l5, h5, l6, h6, l7, h7, l8, h8, l9, h9, l10, h10, l11, h11)
        withUnsafeBytes(of: results) { bytes in
            let tile = bytes.bindMemory(to: Float.self).baseAddress!
            for k in 0..<segmentCount {
                let segment = segments[k]
                for r in 0..<channels {
                    let src = tile + r * blockPixels + segment.position, dst = output + segment.output + r * plane
                    if segment.count == blockPixels {
                        UnsafeMutableRawPointer(dst).storeBytes(of: UnsafeRawPointer(src).load(as: Vector.self), as: Vector.self)
                        UnsafeMutableRawPointer(dst + 16).storeBytes(of: UnsafeRawPointer(src + 16).load(as: Vector.self),
                                                                     as: Vector.self)
                    } else {
                        for i in 0..<segment.count { dst[i] = src[i] }
                    }
                }
            }
        }
    }
}

extension PointwiseConvolution: ConvolutionKernel {
    static let family = ConvolutionFamily.direct

    /// Forwards of 1x1 kernels.
    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool {
        pass == .forward && g.batch > 0 && g.kernelHeight == 1 && g.kernelWidth == 1
    }

    /// 1x1 kernels that are not plain per-image products (stride or padding) over at least 16 input channels, on
    /// CPUs with wide vectors.
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        cpu.hasWideVectors && !g.isPointwise && g.inputChannels >= 16
    }
}
