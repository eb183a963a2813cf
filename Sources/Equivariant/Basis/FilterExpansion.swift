import CFFTW
import Core
import Foundation

/// The linear map from steerable-basis coefficients to the full filter bank `[Cout, Cin, k, k]` of an
/// equivariant convolution between two field types made of trivial and regular fields, and its adjoint.
///
/// Kernel constraint (Weiler & Cesa 2019, eq. 2): `psi(g x) = rho_out(g) psi(x) rho_in(g)^-1`. For permutation
/// representations its solutions are free filters copied over the group, one block per pair of fields:
/// - lifting (trivial -> regular): `psi[e](x) = psi_0(e^-1 x)`, `K` coefficients per pair;
/// - group convolution (regular -> regular): `psi[e, e d](x) = psi_0^(d)(e^-1 x)`, one free filter per `d` in `G`,
///   `|G| K` coefficients per pair (the input axis of output orientation `e` is the cyclic shift by `e`);
/// - projection (regular -> trivial): `psi[h](x) = psi_0(h^-1 x)`, `K` coefficients;
/// - invariant (trivial -> trivial): filters built only from harmonics `m = 0 mod N` (cosines only for `D_N`).
///
/// All `|G|` copies of every free filter come from small GEMMs (coefficients times `OrientationSynthesis`
/// matrices, one per non-empty harmonic bin `q`: a basis function of frequency `m` only feeds bin `m mod N` or its
/// mirror, so the dense synthesis matrix is block sparse) and one batched FFTW complex-to-real plan over the
/// harmonic index (created once per layer shape by `FFTPlanCache`). Rows are processed in chunks of `R`; a chunk's
/// half spectrum is laid out `[S][N/2+1][R][taps]` and its orientations `[S][N][R][taps]`, so the plan is a
/// length-`N` transform of stride `R taps` vectorised over `R taps` contiguous values. The cyclic shifts are an
/// exact index permutation applied while scattering into the filter bank, copied in runs of adjacent filters.
/// The adjoint (for gradients) runs the same steps transposed: gather, batched real-to-complex plan, GEMMs with
/// the transposed bin matrices pre-scaled by the c2r adjoint weights.
///
/// Coefficient layout (the `R2Conv.weight` vector): blocks in the order invariant, lifting, projection, group;
/// within a block, field pairs (output field major), then the `|D|` free filters, then the `K` coefficients.
public final class FilterExpansion: LinearOperator, @unchecked Sendable {
    enum Kind: Int, CaseIterable { case invariant, lifting, projection, group }

    /// One non-empty harmonic bin `q` of reflection copy `s`: the functions feeding it and their rows of the
    /// synthesis matrix (`[columns.count][taps * 2]`), and the same rows times the c2r adjoint weight of `q`.
    struct Bin {
        let reflection: Int
        let q: Int
        let columns: [Int]
        let forward: [Float]
        let adjoint: [Float]
    }

    struct Block {
        let kind: Kind
        let synthesis: OrientationSynthesis
        let bins: [Bin]
        let copies: Int
        let rows: Int
        let coefficientOffset: Int
        /// `[rows][S * N]` offsets (in floats) of the destination `k x k` filter inside the bank.
        let destinations: [Int]
        /// Rows expanded together by one GEMM and one FFTW execution (bounded scratch, parallel chunks).
        let chunkRows: Int
        /// c2r / r2c plans for a full chunk and for the remainder chunk.
        let forwardPlans: [Int: FFTPlan]
        let adjointPlans: [Int: FFTPlan]
        var elements: Int { synthesis.reflections * synthesis.rotations }
        var chunkCount: Int { (rows + chunkRows - 1) / chunkRows }
        var spectrumFloats: Int { chunkRows * synthesis.reflections * synthesis.rowWidth }
        var packFloats: Int { chunkRows * synthesis.coefficientCount }
        var orientationFloats: Int { chunkRows * elements * synthesis.basis.tapCount }
    }

    public let inType: FieldType
    public let outType: FieldType
    public let kernelSize: Int
    public let basis: SteerableBasis
    public let coefficientCount: Int
    public let inputShape: [Int]
    public let outputShape: [Int]
    let blocks: [Block]

    /// - Parameters: field types of the input and output, odd kernel size, sub-pixel samples per axis.
    public init(from inType: FieldType, to outType: FieldType, kernelSize: Int, supersampling: Int = 8) {
        precondition(inType.group == outType.group, "R2Conv needs one group, got \(inType.group) and \(outType.group)")
        precondition(inType.isPermutationType && outType.isPermutationType,
                     "R2Conv supports trivial and regular fields only; got \(inType) -> \(outType)")
        self.inType = inType
        self.outType = outType
        self.kernelSize = kernelSize
        let basis = SteerableBasis.shared(kernelSize: kernelSize, supersampling: supersampling)
        self.basis = basis
        let group = inType.group, taps = basis.tapCount
        let cin = inType.size, cout = outType.size
        let inOffsets = inType.channelOffsets, outOffsets = outType.channelOffsets
        var blocks: [Block] = []
        var offset = 0
        for kind in Kind.allCases {
            var pairs: [(Int, Int)] = []
            for (o, ro) in outType.representations.enumerated() {
                for (i, ri) in inType.representations.enumerated() where Self.kind(out: ro, in: ri) == kind { pairs.append((o, i)) }
            }
            guard !pairs.isEmpty else { continue }
            let synthesis = Self.synthesis(kind: kind, group: group, basis: basis)
            let copies = kind == .group ? group.order : 1
            let rows = pairs.count * copies
            let elementCount = synthesis.reflections * synthesis.rotations
            var destinations = [Int](repeating: 0, count: rows * elementCount)
            for (p, (o, i)) in pairs.enumerated() {
                for d in 0..<copies {
                    for e in 0..<elementCount {
                        let (oc, ic): (Int, Int)
                        switch kind {
                        case .invariant: (oc, ic) = (outOffsets[o], inOffsets[i])
                        case .lifting: (oc, ic) = (outOffsets[o] + e, inOffsets[i])
                        case .projection: (oc, ic) = (outOffsets[o], inOffsets[i] + e)
                        case .group:
                            let h = group.index(of: group.compose(group.element(at: e), group.element(at: d)))
                            (oc, ic) = (outOffsets[o] + e, inOffsets[i] + h)
                        }
                        destinations[(p * copies + d) * elementCount + e] = (oc * cin + ic) * taps
                    }
                }
            }
            let n = synthesis.rotations, half = synthesis.halfSpectrum, s = synthesis.reflections
            let chunkRows = max(1, min(rows, Self.chunkFloats / (s * synthesis.rowWidth)))
            var forwardPlans: [Int: FFTPlan] = [:], adjointPlans: [Int: FFTPlan] = [:]
            for count in Set([chunkRows, rows % chunkRows]) where count > 0 {
                let span = count * taps
                let transform = [FFTAxis(count: n, inputStride: span, outputStride: span)]
                let forwardBatch = [FFTAxis(count: s, inputStride: half * span, outputStride: n * span),
                                    FFTAxis(count: span, inputStride: 1, outputStride: 1)]
                let adjointBatch = [FFTAxis(count: s, inputStride: n * span, outputStride: half * span),
                                    FFTAxis(count: span, inputStride: 1, outputStride: 1)]
                forwardPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .complexToReal, dimensions: transform, batch: forwardBatch))
                adjointPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .realToComplex, dimensions: transform, batch: adjointBatch))
            }
            blocks.append(Block(kind: kind, synthesis: synthesis, bins: Self.bins(synthesis), copies: copies, rows: rows, coefficientOffset: offset,
                                destinations: destinations, chunkRows: chunkRows, forwardPlans: forwardPlans,
                                adjointPlans: adjointPlans))
            offset += rows * synthesis.coefficientCount
        }
        self.blocks = blocks
        coefficientCount = offset
        inputShape = [offset]
        outputShape = [cout, cin, kernelSize, kernelSize]
    }

    /// `E ||A c||^2` for coefficients `c` with independent unit-variance entries: the trace of `A^T A`, i.e. the
    /// summed energy of every basis function's copies over all blocks (used for He initialisation).
    public var expectedSquaredNorm: Double {
        blocks.reduce(0.0) { total, block in
            total + Double(block.rows) * block.synthesis.energies.reduce(0, +)
        }
    }

    /// Floats of half spectrum per chunk: small enough to stay in L2 while the GEMM, the FFT and the scatter
    /// pass over it.
    static let chunkFloats = 1 << 15

    private static let shapes = LockedCache<[AnyHashable], FilterExpansion>()

    /// The expansion for a layer shape, built once per process and shared by every layer of that shape
    /// (it holds only constant tables and plans; scratch is per call, so sharing is thread-safe).
    public static func shared(from inType: FieldType, to outType: FieldType, kernelSize: Int) -> FilterExpansion {
        shapes.value(for: [inType, outType, kernelSize]) { FilterExpansion(from: inType, to: outType, kernelSize: kernelSize) }
    }

    /// Empties the per-process caches of expansions, synthesis matrices and bases (and the FFTW plan cache), so the
    /// next layer construction pays for everything again: used by the cold-construction benchmark.
    public static func clearSharedCaches() {
        shapes.removeAll()
        synthesisCache.removeAll()
        SteerableBasis.clearSharedCache()
        FFTPlanCache.shared.removeAll()
    }

    /// Basis functions per free filter in each kind of block, and how many free filters a field pair has:
    /// the number of coefficients per pair of fields is their product.
    public static func coefficientsPerPair(out: Representation, in input: Representation, kernelSize: Int) -> Int {
        let basis = SteerableBasis.shared(kernelSize: kernelSize)
        let kind = kind(out: out, in: input)
        let synthesis = synthesis(kind: kind, group: out.group, basis: basis)
        return synthesis.coefficientCount * (kind == .group ? out.group.order : 1)
    }

    static func kind(out: Representation, in input: Representation) -> Kind {
        switch (out.kind, input.kind) {
        case (.trivial, .trivial): return .invariant
        case (.regular, .trivial): return .lifting
        case (.trivial, .regular): return .projection
        case (.regular, .regular): return .group
        default: preconditionFailure("R2Conv supports trivial and regular fields only, got \(input) -> \(out)")
        }
    }

    private static let synthesisCache = LockedCache<[Int], OrientationSynthesis>()

    static func synthesis(kind: Kind, group: SymmetryGroup, basis: SteerableBasis) -> OrientationSynthesis {
        let invariant = kind == .invariant
        let key = [basis.kernelSize, basis.supersampling, group.rotationOrder, group.hasReflections ? 1 : 0, invariant ? 1 : 0]
        return synthesisCache.value(for: key) {
            let n = group.rotationOrder
            let indices = basis.functions.indices.filter { k in
                let f = basis.functions[k]
                return !invariant || (f.frequency % n == 0 && !(group.hasReflections && f.isSine))
            }
            return OrientationSynthesis(basis: basis, rotations: invariant ? 1 : n,
                                        reflections: invariant || !group.hasReflections ? 1 : 2, functionIndices: indices)
        }
    }

    /// The non-empty harmonic bins of a synthesis (see `Bin`).
    static func bins(_ syn: OrientationSynthesis) -> [Bin] {
        let taps = syn.basis.tapCount, half = syn.halfSpectrum
        var bins: [Bin] = []
        for r in 0..<syn.reflections {
            let m = syn.matrices[r]
            for q in 0..<half {
                var columns: [Int] = [], rows: [Float] = []
                for k in 0..<syn.coefficientCount {
                    let row = m[((k * half + q) * taps) * 2..<((k * half + q) * taps + taps) * 2]
                    guard row.contains(where: { $0 != 0 }) else { continue }
                    columns.append(k)
                    rows += row
                }
                guard !columns.isEmpty else { continue }
                let w = syn.adjointWeight(q)
                bins.append(Bin(reflection: r, q: q, columns: columns, forward: rows, adjoint: rows.map { $0 * w }))
            }
        }
        return bins
    }

    /// Copies filter `c` of the chunk (element-major: `c = el * rows + row`) to or from its place in the bank,
    /// merging neighbours whose destinations are adjacent into one copy.
    @inline(__always)
    private static func transfer(_ block: Block, first: Int, rows: Int, taps: Int, orientations: UnsafeMutablePointer<Float>,
                                 bank: UnsafeMutablePointer<Float>, toBank: Bool) {
        let elements = block.elements
        block.destinations.withUnsafeBufferPointer { dest in
            for el in 0..<elements {
                var runStart = 0, runDestination = dest[first * elements + el], runLength = 0
                for row in 0...rows {
                    let d = row < rows ? dest[(first + row) * elements + el] : -1
                    if row < rows, d == runDestination + runLength * taps {
                        runLength += 1
                        continue
                    }
                    let o = orientations + (el * rows + runStart) * taps
                    if toBank { (bank + runDestination).update(from: o, count: runLength * taps) }
                    else { o.update(from: bank + runDestination, count: runLength * taps) }
                    runStart = row
                    runDestination = d
                    runLength = 1
                }
            }
        }
    }

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let syn = block.synthesis, half = syn.halfSpectrum, k = syn.coefficientCount
            parallelChunks(block.chunkCount) { chunks in
                let spectrum = FFTBuffer(count: block.spectrumFloats), orientations = FFTBuffer(count: block.orientationFloats)
                let packed = FFTBuffer(count: block.packFloats)
                let src = UnsafePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    let span = rows * taps * 2
                    let coefficients = src + block.coefficientOffset + first * k
                    spectrum.pointer.update(repeating: 0, count: syn.reflections * half * span)
                    for bin in block.bins {
                        // pack the bin's coefficient columns [rows][Kq], then [rows][Kq] x [Kq][taps*2]
                        let kq = bin.columns.count, p = packed.pointer
                        bin.columns.withUnsafeBufferPointer { cols in
                            for row in 0..<rows { for j in 0..<kq { p[row * kq + j] = coefficients[row * k + cols[j]] } }
                        }
                        bin.forward.withUnsafeBufferPointer { g in
                            Gemm.multiply(m: rows, n: taps * 2, k: kq, a: p, lda: kq, b: g.baseAddress!, ldb: taps * 2,
                                          c: spectrum.pointer + (bin.reflection * half + bin.q) * span, ldc: taps * 2,
                                          parallel: false)
                        }
                    }
                    block.forwardPlans[rows]!.execute(input: spectrum.pointer, output: orientations.pointer)
                    Self.transfer(block, first: first, rows: rows, taps: taps, orientations: orientations.pointer, bank: dst,
                                  toBank: true)
                }
            }
        }
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let syn = block.synthesis, half = syn.halfSpectrum, k = syn.coefficientCount
            parallelChunks(block.chunkCount) { chunks in
                let spectrum = FFTBuffer(count: block.spectrumFloats), orientations = FFTBuffer(count: block.orientationFloats)
                let packed = FFTBuffer(count: block.packFloats)
                let src = UnsafeMutablePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    let span = rows * taps * 2
                    Self.transfer(block, first: first, rows: rows, taps: taps, orientations: orientations.pointer, bank: src,
                                  toBank: false)
                    block.adjointPlans[rows]!.execute(input: orientations.pointer, output: spectrum.pointer)
                    let coefficients = dst + block.coefficientOffset + first * k
                    coefficients.update(repeating: 0, count: rows * k)
                    for bin in block.bins {
                        // [rows][taps*2] x ([Kq][taps*2] weighted)^T -> [rows][Kq], added to the bin's columns
                        let kq = bin.columns.count, p = packed.pointer
                        bin.adjoint.withUnsafeBufferPointer { g in
                            Gemm.multiply(transposeB: true, m: rows, n: kq, k: taps * 2,
                                          a: spectrum.pointer + (bin.reflection * half + bin.q) * span, lda: taps * 2,
                                          b: g.baseAddress!, ldb: taps * 2, c: p, ldc: kq, parallel: false)
                        }
                        bin.columns.withUnsafeBufferPointer { cols in
                            for row in 0..<rows { for j in 0..<kq { coefficients[row * k + cols[j]] += p[row * kq + j] } }
                        }
                    }
                }
            }
        }
    }
}
