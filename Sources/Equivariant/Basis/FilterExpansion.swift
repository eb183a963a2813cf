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
/// mirror, so the dense synthesis matrix is block sparse) and one batched FFTW transform of length `N` over the
/// harmonic index (plans created once per layer shape by `FFTPlanCache`). The transform is complex-to-complex on
/// two real filters' taps at once: with the taps padded to an even count `2P`, tap pair `j` of a filter is packed as
/// `z_j = x_(2j) + i x_(2j+1)`, whose spectrum is `Z_j[q] = X_(2j)[q] + i X_(2j+1)[q]` over the full `q = 0 ... N-1`
/// (`X[N-q] = conj X[q]`), so one GEMM per bin writes the packed spectrum directly. FFTW's vectorised complex
/// codelets then run over `R P` contiguous complex values (2.5x faster than its scalar real codelets here;
/// chunks of `R` rows are multiples of 8 so the vectors stay aligned). A chunk's spectrum and its orientations are
/// laid out `[S][N][R][2P]` floats. The cyclic shifts are an exact index permutation applied while copying each
/// filter into the bank. The adjoint (for gradients) runs the same steps transposed: gather, the forward complex
/// transform (the adjoint of the unnormalised backward one), GEMMs with the transposed bin matrices.
///
/// Coefficient layout (the `R2Conv.weight` vector): blocks in the order invariant, lifting, projection, group;
/// within a block, field pairs (output field major), then the `|D|` free filters, then the `K` coefficients.
public final class FilterExpansion: LinearOperator, @unchecked Sendable {
    enum Kind: Int, CaseIterable { case invariant, lifting, projection, group }

    /// One non-empty harmonic bin `q` (of `0 ... N-1`) of reflection copy `s`: the functions feeding it and its
    /// packed synthesis rows `[columns.count][2P]` (tap pair `j` as `(Re, Im)` of `H_q[2j] + i H_q[2j+1]`).
    struct Bin {
        let reflection: Int
        let q: Int
        let columns: [Int]
        let matrix: [Float]
        /// The previous bin feeds from the same columns (a bin and its mirror): its packed coefficients are reused.
        let sharesColumnsWithPrevious: Bool
    }

    struct Block {
        let kind: Kind
        let synthesis: OrientationSynthesis
        let bins: [Bin]
        /// `(s, q)` bins no function feeds: zeroed in the spectrum.
        let emptyBins: [(reflection: Int, q: Int)]
        let copies: Int
        let rows: Int
        let coefficientOffset: Int
        /// `[rows][S * N]` offsets (in floats) of the destination `k x k` filter inside the bank.
        let destinations: [Int]
        /// Rows expanded together by one GEMM and one FFTW execution (bounded scratch, parallel chunks).
        let chunkRows: Int
        /// Backward (synthesis) and forward (adjoint) complex plans for a full chunk and for the remainder chunk.
        let forwardPlans: [Int: FFTPlan]
        let adjointPlans: [Int: FFTPlan]
        var elements: Int { synthesis.reflections * synthesis.rotations }
        var chunkCount: Int { (rows + chunkRows - 1) / chunkRows }
        var packFloats: Int { chunkRows * synthesis.coefficientCount }
        /// Floats of the packed spectrum, and of the orientations, of one chunk: `[S][N][R][2P]`.
        let chunkFloats: Int
    }

    public let inType: FieldType
    public let outType: FieldType
    public let kernelSize: Int
    public let basis: SteerableBasis
    public let coefficientCount: Int
    /// Taps per filter rounded up to even (`2P`): the transform packs taps `2j, 2j+1` into one complex value.
    let paddedTaps: Int
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
            let n = synthesis.rotations, s = synthesis.reflections, tapPairs = (taps + 1) / 2
            var chunkRows = max(1, min(rows, Self.chunkFloats / (s * n * 2 * tapPairs)))
            if chunkRows < rows, chunkRows >= 8 { chunkRows -= chunkRows % 8 }
            let chunkFloats = chunkRows * s * n * 2 * tapPairs
            var forwardPlans: [Int: FFTPlan] = [:], adjointPlans: [Int: FFTPlan] = [:]
            for count in Set([chunkRows, rows % chunkRows]) where count > 0 {
                let span = count * tapPairs  // complex values per bin
                let transform = [FFTAxis(count: n, inputStride: span, outputStride: span)]
                let batch = [FFTAxis(count: s, inputStride: n * span, outputStride: n * span),
                             FFTAxis(count: span, inputStride: 1, outputStride: 1)]
                forwardPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .backward, dimensions: transform, batch: batch))
                adjointPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .forward, dimensions: transform, batch: batch))
            }
            let bins = Self.bins(synthesis)
            let fed = Set(bins.map { $0.reflection * n + $0.q })
            let emptyBins = (0..<(s * n)).filter { !fed.contains($0) }.map { (reflection: $0 / n, q: $0 % n) }
            blocks.append(Block(kind: kind, synthesis: synthesis, bins: bins, emptyBins: emptyBins, copies: copies, rows: rows,
                                coefficientOffset: offset,
                                destinations: destinations, chunkRows: chunkRows, forwardPlans: forwardPlans,
                                adjointPlans: adjointPlans, chunkFloats: chunkFloats))
            offset += rows * synthesis.coefficientCount
        }
        self.blocks = blocks
        paddedTaps = 2 * ((taps + 1) / 2)
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

    /// Floats of spectrum per chunk: small enough to stay in L2 (with the orientations) while the GEMMs, the FFT
    /// and the copies pass over it.
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

    /// The non-empty harmonic bins of a synthesis (see `Bin`), mirrors adjacent: `q = 0, 1, N-1, 2, N-2, ...`.
    /// Bin `q > N/2` is the conjugate of `N - q`; the imaginary parts of the zero and Nyquist bins are dropped, as a
    /// complex-to-real transform would.
    static func bins(_ syn: OrientationSynthesis) -> [Bin] {
        let taps = syn.basis.tapCount, half = syn.halfSpectrum, n = syn.rotations, pairs = (taps + 1) / 2
        var order = [0]
        for q in 1..<half { order.append(q); if n - q != q { order.append(n - q) } }
        var bins: [Bin] = []
        for r in 0..<syn.reflections {
            let m = syn.matrices[r]
            for q in order {
                let source = q < half ? q : n - q
                let imaginarySign: Float = q == 0 || 2 * q == n ? 0 : (q < half ? 1 : -1)
                func h(_ k: Int, _ t: Int) -> (Float, Float) {
                    guard t < taps else { return (0, 0) }
                    let o = ((k * half + source) * taps + t) * 2
                    return (m[o], imaginarySign * m[o + 1])
                }
                var columns: [Int] = [], matrix: [Float] = []
                for k in 0..<syn.coefficientCount {
                    var row = [Float](repeating: 0, count: 2 * pairs)
                    for j in 0..<pairs {
                        let (ar, ai) = h(k, 2 * j), (br, bi) = h(k, 2 * j + 1)
                        row[2 * j] = ar - bi
                        row[2 * j + 1] = ai + br
                    }
                    guard row.contains(where: { $0 != 0 }) else { continue }
                    columns.append(k)
                    matrix += row
                }
                guard !columns.isEmpty else { continue }
                let shares = bins.last.map { $0.reflection == r && $0.columns == columns } ?? false
                bins.append(Bin(reflection: r, q: q, columns: columns, matrix: matrix, sharesColumnsWithPrevious: shares))
            }
        }
        return bins
    }

    /// Copies filter `c` of the chunk (element-major: `c = el * rows + row`, `paddedTaps` apart) to or from its place
    /// in the bank (`taps` floats).
    @inline(__always)
    private static func transfer(_ block: Block, first: Int, rows: Int, taps: Int, paddedTaps: Int,
                                 orientations: UnsafeMutablePointer<Float>, bank: UnsafeMutablePointer<Float>, toBank: Bool) {
        let elements = block.elements
        block.destinations.withUnsafeBufferPointer { dest in
            for row in 0..<rows {
                let destinations = dest.baseAddress! + (first + row) * elements
                for el in 0..<elements {
                    let o = orientations + (el * rows + row) * paddedTaps, b = bank + destinations[el]
                    if toBank { copyFloats(from: o, to: b, count: taps) } else { copyFloats(from: b, to: o, count: taps) }
                }
            }
        }
    }

    /// Inline copy of a short run of floats (a filter's taps) with 16-wide vectors; the last vector may overlap the
    /// previous one. The two ranges must not overlap.
    @inline(__always)
    private static func copyFloats(from source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = SIMD16<Float>
        let src = UnsafeRawPointer(source), dst = UnsafeMutableRawPointer(destination), width = V.scalarCount
        guard count >= width else {
            for i in 0..<count { destination[i] = source[i] }
            return
        }
        var i = 0
        while i + width <= count {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i * 4, as: V.self), toByteOffset: i * 4, as: V.self)
            i += width
        }
        if i < count {
            let last = (count - width) * 4
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: last, as: V.self), toByteOffset: last, as: V.self)
        }
    }

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount, paddedTaps = self.paddedTaps
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let n = block.synthesis.rotations, k = block.synthesis.coefficientCount
            parallelChunks(block.chunkCount) { chunks in
                let spectrum = FFTBuffer(count: block.chunkFloats)
                let orientations = FFTBuffer(count: block.chunkFloats)
                let packed = FFTBuffer(count: block.packFloats)
                let src = UnsafePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    let span = rows * paddedTaps
                    let coefficients = src + block.coefficientOffset + first * k
                    for empty in block.emptyBins {
                        (spectrum.pointer + (empty.reflection * n + empty.q) * span).update(repeating: 0, count: span)
                    }
                    for bin in block.bins {
                        // pack the bin's coefficient columns [rows][Kq], then [rows][Kq] x [Kq][2P]
                        let kq = bin.columns.count, p = packed.pointer
                        if !bin.sharesColumnsWithPrevious {
                            bin.columns.withUnsafeBufferPointer { cols in
                                for row in 0..<rows { for j in 0..<kq { p[row * kq + j] = coefficients[row * k + cols[j]] } }
                            }
                        }
                        bin.matrix.withUnsafeBufferPointer { g in
                            Gemm.multiply(m: rows, n: paddedTaps, k: kq, a: p, lda: kq, b: g.baseAddress!, ldb: paddedTaps,
                                          c: spectrum.pointer + (bin.reflection * n + bin.q) * span, ldc: paddedTaps,
                                          parallel: false)
                        }
                    }
                    block.forwardPlans[rows]!.execute(input: spectrum.pointer, output: orientations.pointer)
                    Self.transfer(block, first: first, rows: rows, taps: taps, paddedTaps: paddedTaps,
                                  orientations: orientations.pointer, bank: dst, toBank: true)
                }
            }
        }
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount, paddedTaps = self.paddedTaps
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let n = block.synthesis.rotations, k = block.synthesis.coefficientCount
            parallelChunks(block.chunkCount) { chunks in
                // the padding tap of every filter stays zero: the gather writes only the `taps` real ones
                let spectrum = FFTBuffer(count: block.chunkFloats)
                let orientations = FFTBuffer(count: block.chunkFloats)
                let packed = FFTBuffer(count: block.packFloats)
                let src = UnsafeMutablePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    let span = rows * paddedTaps
                    Self.transfer(block, first: first, rows: rows, taps: taps, paddedTaps: paddedTaps,
                                  orientations: orientations.pointer, bank: src, toBank: false)
                    block.adjointPlans[rows]!.execute(input: orientations.pointer, output: spectrum.pointer)
                    let coefficients = dst + block.coefficientOffset + first * k
                    coefficients.update(repeating: 0, count: rows * k)
                    for (index, bin) in block.bins.enumerated() {
                        // Re([rows][P] x conj([Kq][P])^T) -> [rows][Kq], summed over bins sharing columns, then added to
                        // the coefficients
                        let kq = bin.columns.count, p = packed.pointer
                        bin.matrix.withUnsafeBufferPointer { g in
                            Gemm.multiply(transposeB: true, m: rows, n: kq, k: paddedTaps,
                                          a: spectrum.pointer + (bin.reflection * n + bin.q) * span, lda: paddedTaps,
                                          b: g.baseAddress!, ldb: paddedTaps, beta: bin.sharesColumnsWithPrevious ? 1 : 0,
                                          c: p, ldc: kq, parallel: false)
                        }
                        let next = index + 1 < block.bins.count ? block.bins[index + 1] : nil
                        if next?.sharesColumnsWithPrevious == true { continue }
                        bin.columns.withUnsafeBufferPointer { cols in
                            for row in 0..<rows { for j in 0..<kq { coefficients[row * k + cols[j]] += p[row * kq + j] } }
                        }
                    }
                }
            }
        }
    }
}
