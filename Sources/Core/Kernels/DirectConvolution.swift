import Foundation

/// Forward convolution (and the input gradient of stride-1 ones, itself a convolution) by a register-blocked
/// micro-kernel that reads a channels-last copy of the input directly, with no im2col matrix (the
/// "direct convolution" of Georganas et al. 2018, "Anatomy of high-performance deep learning convolutions on SIMD
/// architectures", SC'18, as oneDNN runs it on CPUs).
///
/// The product is the im2col GEMM `Y[p, o] = sum_{t, c} X[p + offset_t, c] W[o, c, t]` with the pixel rows of
/// its left matrix never written out: a tile of 12 output pixels keeps one input pointer per pixel, and for each tap
/// `t` (offset `offset_t` in the input) and input channel `c` broadcasts the 12 pixels' values against two
/// 16-lane vectors of 32 output channels' weights, 24 fused multiply-adds into 24 accumulators that stay in registers
/// for the whole reduction (`9 Cin` steps for a 3x3 kernel). Per step the kernel loads 2 vectors and 12 scalars and
/// stores nothing, so multiply-adds, not memory traffic, bound it; im2col's GEMM on small maps is bounded by
/// unrolling and packing its few, deep columns instead.
///
/// Layouts:
/// - input: `[N, H, W, Cin]` (one register transpose per image; no padding is stored);
/// - weights: panels of 32 output channels, `[Cout / 32][Cin][kh kw][32]` (a plain transpose of each panel's
///   `[32, Cin kh kw]` rows), the last panel zero-filled past `Cout`;
/// - output: written straight into NCHW, one tile's 12 x 32 results at a time.
///
/// Output pixels are grouped by which taps read inside the input (interior pixels first, then each kind of border
/// pixel), ordered by image and position within a group, and cut into tiles of at most 12 that never mix groups. A
/// tile runs exactly its group's taps, so padding is neither multiplied nor stored: on a 2x2 map every pixel needs 4
/// of the 9 taps of a padded 3x3 kernel. Each output element is computed by one tile with a fixed reduction order, so
/// results do not depend on the thread count.
///
/// Fast only when compiled for 512-bit vectors; `prefers` routes convolutions here only on such builds.
enum DirectConvolution {
    typealias Vector = SIMD16<Float>
    /// Output pixels per tile (broadcast operands).
    static let tilePixels = 12
    /// Output channels per weight panel (two 16-lane vectors).
    static let panelChannels = 32

    /// Pixel order, tiles and tap lists of one geometry (built once and cached).
    final class Plan: @unchecked Sendable {
        let geometry: ConvGeometry
        /// Per output pixel in kernel order: offset of its tap (0, 0) in the channels-last input `[N, H, W, Cin]`,
        /// in floats (outside the image, i.e. negative or past a row, for border pixels: only their valid taps read).
        let pixelInput: [Int]
        /// Per output pixel in kernel order: offset of its channel 0 in the NCHW output.
        let pixelOutput: [Int]
        /// Per tile: its range of pixels (at most 12, all with the same valid taps).
        let tilePixels: [Range<Int>]
        /// Per tile: the range of `tapInput`/`tapWeight` entries it runs.
        let tileTaps: [Range<Int>]
        /// Input offset (floats, channels-last) of each run tap relative to tap (0, 0).
        let tapInput: [Int]
        /// Weight offset (floats within a panel's channel row, i.e. `t * 32`) of each run tap.
        let tapWeight: [Int]

        init(_ g: ConvGeometry) {
            geometry = g
            let cin = g.inputChannels, kw = g.kernelWidth, k2 = g.kernelHeight * kw
            // the taps that read inside the input at each output position
            var maskOfPosition = [Int](repeating: 0, count: g.outputPlane)
            for t in 0..<k2 {
                let dy = (t / kw) * g.dilation - g.padding, dx = (t % kw) * g.dilation - g.padding
                let (y0, y1) = ConvGeometry.validRange(offset: dy, extent: g.height, stride: g.stride, outputs: g.outputHeight)
                let (x0, x1) = ConvGeometry.validRange(offset: dx, extent: g.width, stride: g.stride, outputs: g.outputWidth)
                for y in y0..<y1 { for x in x0..<x1 { maskOfPosition[y * g.outputWidth + x] |= 1 << t } }
            }
            let groups = Dictionary(grouping: 0..<g.outputPlane, by: { maskOfPosition[$0] })
                .sorted { ($0.key.nonzeroBitCount, $0.key) > ($1.key.nonzeroBitCount, $1.key) }
            let imageInput = g.height * g.width * cin, imageOutput = g.outputChannels * g.outputPlane
            var pixelInput: [Int] = [], pixelOutput: [Int] = []
            var tilePixels: [Range<Int>] = [], tileTaps: [Range<Int>] = [], tapInput: [Int] = [], tapWeight: [Int] = []
            for (mask, positions) in groups {
                let start = pixelInput.count
                for n in 0..<g.batch {
                    for p in positions {
                        let y = (p / g.outputWidth) * g.stride - g.padding, x = (p % g.outputWidth) * g.stride - g.padding
                        pixelInput.append(n * imageInput + (y * g.width + x) * cin)
                        pixelOutput.append(n * imageOutput + p)
                    }
                }
                // tiles never mix groups, so every tap a tile runs reads inside the input for all its pixels
                let taps = tapInput.count..<(tapInput.count + mask.nonzeroBitCount)
                for t in 0..<k2 where mask & (1 << t) != 0 {
                    tapInput.append(((t / kw) * g.dilation * g.width + (t % kw) * g.dilation) * cin)
                    tapWeight.append(t * DirectConvolution.panelChannels)
                }
                for first in stride(from: start, to: pixelInput.count, by: DirectConvolution.tilePixels) {
                    tilePixels.append(first..<min(first + DirectConvolution.tilePixels, pixelInput.count))
                    tileTaps.append(taps)
                }
            }
            self.pixelInput = pixelInput
            self.pixelOutput = pixelOutput
            self.tilePixels = tilePixels
            self.tileTaps = tileTaps
            self.tapInput = tapInput
            self.tapWeight = tapWeight
        }

        var panels: Int { (geometry.outputChannels + DirectConvolution.panelChannels - 1) / DirectConvolution.panelChannels }
        var panelFloats: Int { geometry.patchSize * DirectConvolution.panelChannels }
        var inputFloats: Int { geometry.batch * geometry.inputPlane * geometry.inputChannels }
    }

    /// Plans by geometry; emptied past 2^22 output pixels in total (2 x 8 bytes each).
    private static let plans = LockedCache<ConvGeometry, Plan>(limit: 1 << 22, size: { $0.pixelInput.count })

    /// The cached plan for `g`.
    static func plan(_ g: ConvGeometry) -> Plan { plans.value(for: g) { Plan(g) } }

    // MARK: Layouts

    /// `[Cout, Cin kh kw]` weights -> `[panels][Cin kh kw][32]`, zero past `Cout`.
    static func packWeights(_ weight: UnsafePointer<Float>, _ plan: Plan, into panels: UnsafeMutablePointer<Float>) {
        let g = plan.geometry, k = g.patchSize, cout = g.outputChannels, width = panelChannels
        parallelFor(plan.panels) { p in
            let rows = min(width, cout - p * width), panel = panels + p * plan.panelFloats
            Transpose.matrix(weight + p * width * k, lds: k, panel, ldd: width, rows: rows, columns: k)
            if rows < width {
                for step in 0..<k { (panel + step * width + rows).update(repeating: 0, count: width - rows) }
            }
        }
    }

    /// NCHW `[N, C, plane]` -> `[N, plane, C]`: one whole-plane transpose per image.
    static func channelsLast(_ input: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                             into output: UnsafeMutablePointer<Float>) {
        parallelFor(batch) { n in
            Transpose.matrix(input + n * channels * plane, lds: plane, output + n * plane * channels, ldd: channels,
                             rows: channels, columns: plane)
        }
    }

    // MARK: Forward

    /// `output = conv(input, weight)` (no bias), `output` fully written. Shapes as in `ConvolutionKernel`.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                               output: UnsafeMutablePointer<Float>) {
        guard g.batch > 0 else { return }
        let plan = plan(g)
        run(plan, input: input, output: output) { packWeights(weight, plan, into: $0) }
    }

    /// The geometry whose forward pass is the input gradient of stride-1 `g`: the gradient is the correlation of
    /// the output gradient (`Cout` channels, padded by `dilation (k - 1) - padding`) with the kernel flipped in both
    /// axes and its channel axes swapped.
    static func inputGradientGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(batch: g.batch, inputChannels: g.outputChannels, height: g.outputHeight, width: g.outputWidth,
                     outputChannels: g.inputChannels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                     stride: 1, padding: g.dilation * (g.kernelHeight - 1) - g.padding, dilation: g.dilation)
    }

    /// Whether `inputGradient` can run `g`: stride 1, square kernels and padding at most `dilation (k - 1)` (so that
    /// the gradient's correlation needs no cropping).
    static func supportsInputGradient(_ g: ConvGeometry) -> Bool {
        g.stride == 1 && g.kernelHeight == g.kernelWidth && g.padding <= g.dilation * (g.kernelHeight - 1)
    }

    /// `gradInput = d sum(gradOutput * conv(x, weight)) / dx` for stride-1 `g` (see `supportsInputGradient`), by the
    /// same kernel on `inputGradientGeometry(g)`. `gradInput` is fully written. `channelsLastGradOutput`, when given,
    /// is `gradOutput` already in `[N, Ho, Wo, Cout]` layout (shared with `DirectWeightGradient`).
    static func inputGradient(gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                                     gradInput: UnsafeMutablePointer<Float>,
                                     channelsLastGradOutput: UnsafePointer<Float>? = nil) {
        precondition(supportsInputGradient(g), "direct input gradient needs stride 1 and a square kernel, got \(g)")
        guard g.batch > 0 else { return }
        let plan = plan(inputGradientGeometry(g))
        run(plan, input: gradOutput, channelsLastInput: channelsLastGradOutput, output: gradInput) {
            packFlippedWeights(weight, g, plan, into: $0)
        }
    }

    /// `[Cout, Cin, kh, kw]` weights -> panels of `inputGradientGeometry(g)`: `[Cin / 32][Cout][taps reversed][32]`.
    static func packFlippedWeights(_ weight: UnsafePointer<Float>, _ g: ConvGeometry, _ plan: Plan,
                                   into panels: UnsafeMutablePointer<Float>) {
        let cin = g.inputChannels, k2 = g.kernelHeight * g.kernelWidth, width = panelChannels
        let paddedChannels = plan.panels * width
        parallelChunks(g.outputChannels, minimumChunk: 4) { outputs in
            ScratchPool.withBuffer(count: k2 * paddedChannels) { flipped in
                // columns past Cin stay zero
                flipped.update(repeating: 0, count: k2 * paddedChannels)
                for o in outputs {
                    // flipped[k2 - 1 - t][c] = weight[o][c][t]
                    Transpose.matrix(weight + o * cin * k2, lds: k2, flipped + (k2 - 1) * paddedChannels,
                                     ldd: -paddedChannels, rows: cin, columns: k2)
                    for p in 0..<plan.panels {
                        for t in 0..<k2 {
                            (panels + p * plan.panelFloats + (o * k2 + t) * width)
                                .update(from: flipped + t * paddedChannels + p * width, count: width)
                        }
                    }
                }
            }
        }
    }

    /// Tiles per block when blocks of tiles go over all panels (`tileBlockMajor`): 384 pixels, whose input rows stay
    /// in L2 while every panel passes over them.
    static let blockTiles = 32

    /// The order of the (panel, tile) work items. Panel-major keeps one weight panel in L2 while every tile passes
    /// and streams the input once per panel; tile-block-major keeps all weights in L2 while every panel
    /// passes over a block of tiles and streams the input once. The second pays only when all packed weights fit
    /// in L2 next to a block's input (at most 384 KiB: ResNet18's 64-channel 3x3 layers) and the input does not
    /// (more than 1 MiB): measured 0.91-0.95x on those layers at 150x150 and 1.07-1.30x on the deeper ones.
    static func tileBlockMajor(_ plan: Plan) -> Bool {
        plan.panels > 1 && plan.panels * plan.panelFloats * 4 <= 384 << 10 && plan.inputFloats * 4 > 1 << 20
    }

    /// Contiguous ranges of tile-block-major work items, one per thread, with equal numbers of multiply-adds: border
    /// pixels run fewer taps and come last in the pixel order, so equal item counts would leave the thread with
    /// the interior tiles working alone at the end (measured 5 % on `conv-fwd-64-l2-64x128-k3s2`).
    static func balancedRanges(_ plan: Plan, threads: Int) -> [Range<Int>] {
        let tiles = plan.tileTaps.count, items = plan.panels * tiles, blockItems = blockTiles * plan.panels
        guard threads > 1 && items > 1 else { return [0..<items] }
        var cumulative = [Int](repeating: 0, count: items + 1)
        for item in 0..<items {
            let block = item / blockItems, blockSize = min(blockTiles, tiles - block * blockTiles)
            let tile = block * blockTiles + (item - block * blockItems) % blockSize
            cumulative[item + 1] = cumulative[item] + plan.tileTaps[tile].count
        }
        var bounds = [0]
        for t in 1..<threads {
            // the first item whose cumulative cost reaches t / threads of the total
            let target = cumulative[items] * t / threads
            var lo = bounds.last!, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            bounds.append(lo)
        }
        bounds.append(items)
        return (0..<threads).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// Copies `input` to channels-last (unless `channelsLastInput` already holds it), packs the weights with `pack`,
    /// and runs every (panel, tile) pair over the threads.
    static func run(_ plan: Plan, input: UnsafePointer<Float>, channelsLastInput given: UnsafePointer<Float>? = nil,
                    output: UnsafeMutablePointer<Float>, pack: (UnsafeMutablePointer<Float>) -> Void) {
        let g = plan.geometry, weightFloats = plan.panels * plan.panelFloats
        ScratchPool.withBuffer(count: weightFloats + (given == nil ? plan.inputFloats : 0) + 16) { work in
            let panels = aligned(work)
            pack(panels)
            let channelsLastInput = given ?? {
                channelsLast(input, batch: g.batch, channels: g.inputChannels, plane: g.inputPlane, into: panels + weightFloats)
                return UnsafePointer(panels + weightFloats)
            }()
            let tiles = plan.tileTaps.count, cout = g.outputChannels, plane = g.outputPlane, cin = g.inputChannels
            plan.pixelInput.withUnsafeBufferPointer { pixelInput in
            plan.pixelOutput.withUnsafeBufferPointer { pixelOutput in
            plan.tapInput.withUnsafeBufferPointer { tapInput in
            plan.tapWeight.withUnsafeBufferPointer { tapWeight in
                let blockMajor = tileBlockMajor(plan), blockItems = blockTiles * plan.panels
                let ranges = blockMajor ? balancedRanges(plan, threads: ComputeThreads.count) : nil
                parallelChunks(ranges?.count ?? plan.panels * tiles) { chunk in
                    for item in ranges.map({ $0[chunk.lowerBound].lowerBound..<$0[chunk.upperBound - 1].upperBound }) ?? chunk {
                        let p: Int, tile: Int
                        if blockMajor {
                            // block b holds items b * blockItems ..< (b + 1) * blockItems: its tiles for each panel
                            let block = item / blockItems, within = item - block * blockItems
                            let blockSize = min(blockTiles, tiles - block * blockTiles)
                            p = within / blockSize
                            tile = block * blockTiles + within - p * blockSize
                        } else {
                            p = item / tiles
                            tile = item - p * tiles
                        }
                        let first = plan.tilePixels[tile].lowerBound, count = plan.tilePixels[tile].count
                        let taps = plan.tileTaps[tile]
                        let channels = min(panelChannels, cout - p * panelChannels)
                        computeTile(
                            input: channelsLastInput, pixels: pixelInput.baseAddress! + first, count: count,
                            tapInput: tapInput.baseAddress! + taps.lowerBound,
                            tapWeight: tapWeight.baseAddress! + taps.lowerBound, tapCount: taps.count,
                            inputChannels: cin, stepStride: g.kernelHeight * g.kernelWidth * panelChannels,
                            panel: panels + p * plan.panelFloats,
                            output: output + p * panelChannels * plane, outputOffsets: pixelOutput.baseAddress! + first,
                            channels: channels, plane: plane)
                    }
                }
            } } } }
        }
    }

    /// The first 64-byte boundary at or after `p` (scratch is over-allocated by one vector).
    @inline(__always) static func aligned(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        UnsafeMutablePointer(bitPattern: (Int(bitPattern: p) + 63) & ~63)!
    }

    /// One tile: `count <= 12` pixels x `channels <= 32` output channels of one panel, reduced over the tile's taps
    /// and all input channels, stored to `output[outputOffsets[j] + o * plane]`.
    static func computeTile(
        input: UnsafePointer<Float>, pixels: UnsafePointer<Int>, count: Int,
        tapInput: UnsafePointer<Int>, tapWeight: UnsafePointer<Int>, tapCount: Int,
        inputChannels: Int, stepStride: Int, panel: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, outputOffsets: UnsafePointer<Int>, channels: Int, plane: Int
    ) {
        // pixels past `count` repeat the first one; their results are dropped
        @inline(__always) func base(_ j: Int) -> UnsafePointer<Float> { input + pixels[j < count ? j : 0] }
        let b0 = base(0), b1 = base(1), b2 = base(2), b3 = base(3), b4 = base(4), b5 = base(5)
        let b6 = base(6), b7 = base(7), b8 = base(8), b9 = base(9), b10 = base(10), b11 = base(11)
        var l0 = Vector(), l1 = Vector(), l2 = Vector(), l3 = Vector(), l4 = Vector(), l5 = Vector()
        var l6 = Vector(), l7 = Vector(), l8 = Vector(), l9 = Vector(), l10 = Vector(), l11 = Vector()
        var h0 = Vector(), h1 = Vector(), h2 = Vector(), h3 = Vector(), h4 = Vector(), h5 = Vector()
        var h6 = Vector(), h7 = Vector(), h8 = Vector(), h9 = Vector(), h10 = Vector(), h11 = Vector()
        let stride = stepStride * 4
        for t in 0..<tapCount {
            let o = tapInput[t]
            let p0 = b0 + o, p1 = b1 + o, p2 = b2 + o, p3 = b3 + o, p4 = b4 + o, p5 = b5 + o
            let p6 = b6 + o, p7 = b7 + o, p8 = b8 + o, p9 = b9 + o, p10 = b10 + o, p11 = b11 + o
            var w = UnsafeRawPointer(panel + tapWeight[t])
            for c in 0..<inputChannels {
                let lo = w.load(as: Vector.self), hi = w.load(fromByteOffset: 64, as: Vector.self)
                var x = Vector(repeating: p0[c]); l0.addProduct(lo, x); h0.addProduct(hi, x)
                x = Vector(repeating: p1[c]); l1.addProduct(lo, x); h1.addProduct(hi, x)
                x = Vector(repeating: p2[c]); l2.addProduct(lo, x); h2.addProduct(hi, x)
                x = Vector(repeating: p3[c]); l3.addProduct(lo, x); h3.addProduct(hi, x)
                x = Vector(repeating: p4[c]); l4.addProduct(lo, x); h4.addProduct(hi, x)
                x = Vector(repeating: p5[c]); l5.addProduct(lo, x); h5.addProduct(hi, x)
                x = Vector(repeating: p6[c]); l6.addProduct(lo, x); h6.addProduct(hi, x)
                x = Vector(repeating: p7[c]); l7.addProduct(lo, x); h7.addProduct(hi, x)
                x = Vector(repeating: p8[c]); l8.addProduct(lo, x); h8.addProduct(hi, x)
                x = Vector(repeating: p9[c]); l9.addProduct(lo, x); h9.addProduct(hi, x)
                x = Vector(repeating: p10[c]); l10.addProduct(lo, x); h10.addProduct(hi, x)
                x = Vector(repeating: p11[c]); l11.addProduct(lo, x); h11.addProduct(hi, x)
                w += stride
            }
        }
        let low = (l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11)
        let high = (h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11)
        withUnsafeBytes(of: low) { lowBytes in withUnsafeBytes(of: high) { highBytes in
            let lows = lowBytes.bindMemory(to: Float.self).baseAddress!, highs = highBytes.bindMemory(to: Float.self).baseAddress!
            for j in 0..<count {
                let destination = output + outputOffsets[j]
                for o in 0..<min(channels, 16) { destination[o * plane] = lows[j * 16 + o] }
                if channels > 16 {
                    for o in 16..<channels { destination[o * plane] = highs[j * 16 + o - 16] }
                }
            }
        } }
    }
}

extension DirectConvolution: ConvolutionKernel {
    static let family = ConvolutionFamily.direct

    /// Forwards and weight gradients of every geometry; input gradients where `supportsInputGradient`.
    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool {
        g.batch > 0 && (pass != .inputGradient || supportsInputGradient(g))
    }

    /// Forwards and input gradients (the forward of `inputGradientGeometry`) where `prefersForward`, weight
    /// gradients where `DirectWeightGradient.prefers`.
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        switch pass {
        case .forward: return prefersForward(g, on: cpu)
        case .inputGradient: return prefersForward(inputGradientGeometry(g), on: cpu)
        case .weightGradient: return DirectWeightGradient.prefers(g, on: cpu)
        }
    }

    /// Kernels larger than 1x1 over at least 16 input channels (ResNet18's 3x3 layers; measured faster than im2col
    /// and tap-wise products on all of them, see notebook 05), on CPUs with wide vectors: only there are the
    /// kernel's 16-lane vectors single registers.
    static func prefersForward(_ g: ConvGeometry, on cpu: CPUFeatures) -> Bool {
        cpu.hasWideVectors && g.batch > 0 && g.kernelHeight * g.kernelWidth > 1 && g.inputChannels >= 16
    }

    /// Weight gradients by `DirectWeightGradient`, input gradients by `inputGradient`; with both and `Cout` a multiple
    /// of `DirectWeightGradient.tileOutputs`, the two share one channels-last copy of `gradOutput`.
    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?) {
        let cout = g.outputChannels, plane = g.outputPlane
        if let gradWeight, let gradInput, cout % DirectWeightGradient.tileOutputs == 0 {
            ScratchPool.withBuffer(count: g.batch * plane * cout) { dy in
                channelsLast(gradOutput, batch: g.batch, channels: cout, plane: plane, into: dy)
                DirectWeightGradient.compute(input: input, gradOutput: gradOutput, geometry: g, gradWeight: gradWeight,
                                             channelsLastGradOutput: dy)
                inputGradient(gradOutput: gradOutput, weight: weight, geometry: g, gradInput: gradInput,
                              channelsLastGradOutput: dy)
            }
            return
        }
        if let gradWeight {
            DirectWeightGradient.compute(input: input, gradOutput: gradOutput, geometry: g, gradWeight: gradWeight)
        }
        if let gradInput {
            inputGradient(gradOutput: gradOutput, weight: weight, geometry: g, gradInput: gradInput)
        }
    }
}
