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
/// All `|G|` copies of every free filter come from one GEMM (coefficients times `OrientationSynthesis`
/// matrices) and one batched FFTW complex-to-real plan over the harmonic index (created once per layer shape
/// by `FFTPlanCache`); the cyclic shifts are an exact index permutation applied while scattering into the
/// filter bank. The adjoint (for gradients) runs the same steps transposed: gather, batched real-to-complex
/// plan with the c2r adjoint weights, GEMM with the transposed matrices.
///
/// Coefficient layout (the `R2Conv.weight` vector): blocks in the order invariant, lifting, projection, group;
/// within a block, field pairs (output field major), then the `|D|` free filters, then the `K` coefficients.
public final class FilterExpansion: LinearOperator, @unchecked Sendable {
    enum Kind: Int, CaseIterable { case invariant, lifting, projection, group }

    struct Block {
        let kind: Kind
        let synthesis: OrientationSynthesis
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
                let transform = [FFTAxis(count: n, inputStride: taps, outputStride: taps)]
                let forwardBatch = [FFTAxis(count: count * s, inputStride: half * taps, outputStride: n * taps),
                                    FFTAxis(count: taps, inputStride: 1, outputStride: 1)]
                let adjointBatch = [FFTAxis(count: count * s, inputStride: n * taps, outputStride: half * taps),
                                    FFTAxis(count: taps, inputStride: 1, outputStride: 1)]
                forwardPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .complexToReal, dimensions: transform, batch: forwardBatch))
                adjointPlans[count] = FFTPlanCache.shared.plan(for: FFTDescriptor(kind: .realToComplex, dimensions: transform, batch: adjointBatch))
            }
            blocks.append(Block(kind: kind, synthesis: synthesis, copies: copies, rows: rows, coefficientOffset: offset,
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
    static let chunkFloats = 1 << 16

    private static let shapes = LockedCache<[AnyHashable], FilterExpansion>()

    /// The expansion for a layer shape, built once per process and shared by every layer of that shape
    /// (it holds only constant tables and plans; scratch is per call, so sharing is thread-safe).
    public static func shared(from inType: FieldType, to outType: FieldType, kernelSize: Int) -> FilterExpansion {
        shapes.value(for: [inType, outType, kernelSize]) { FilterExpansion(from: inType, to: outType, kernelSize: kernelSize) }
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

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let syn = block.synthesis, width = syn.rowWidth, s = syn.reflections, k = syn.coefficientCount
            let elements = block.elements
            parallelChunks(block.chunkCount) { chunks in
                let spectrum = FFTBuffer(count: block.spectrumFloats), orientations = FFTBuffer(count: block.orientationFloats)
                let src = UnsafePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    let coefficients = src + block.coefficientOffset + first * k
                    for r in 0..<s {
                        syn.matrices[r].withUnsafeBufferPointer { m in
                            Gemm.multiply(m: rows, n: width, k: k, a: coefficients, lda: k, b: m.baseAddress!, ldb: width,
                                          c: spectrum.pointer + r * width, ldc: s * width, parallel: false)
                        }
                    }
                    block.forwardPlans[rows]!.execute(input: spectrum.pointer, output: orientations.pointer)
                    block.destinations.withUnsafeBufferPointer { dest in
                        let o = orientations.pointer
                        for c in 0..<(rows * elements) { (dst + dest[first * elements + c]).update(from: o + c * taps, count: taps) }
                    }
                }
            }
        }
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let taps = basis.tapCount
        let inAddress = Int(bitPattern: input.baseAddress!), outAddress = Int(bitPattern: output.baseAddress!)
        for block in blocks {
            let syn = block.synthesis, width = syn.rowWidth, s = syn.reflections, k = syn.coefficientCount
            let elements = block.elements, half = syn.halfSpectrum
            let weights = (0..<half).map { syn.adjointWeight($0) }
            parallelChunks(block.chunkCount) { chunks in
                let spectrum = FFTBuffer(count: block.spectrumFloats), orientations = FFTBuffer(count: block.orientationFloats)
                let src = UnsafePointer<Float>(bitPattern: inAddress)!, dst = UnsafeMutablePointer<Float>(bitPattern: outAddress)!
                for chunk in chunks {
                    let first = chunk * block.chunkRows, rows = min(block.chunkRows, block.rows - first)
                    block.destinations.withUnsafeBufferPointer { dest in
                        let o = orientations.pointer
                        for c in 0..<(rows * elements) { (o + c * taps).update(from: src + dest[first * elements + c], count: taps) }
                    }
                    block.adjointPlans[rows]!.execute(input: orientations.pointer, output: spectrum.pointer)
                    let sp = spectrum.pointer
                    for row in 0..<(rows * s) {
                        for q in 0..<half where weights[q] != 1 {
                            let base = (row * half + q) * taps * 2
                            for i in 0..<(taps * 2) { sp[base + i] *= weights[q] }
                        }
                    }
                    let coefficients = dst + block.coefficientOffset + first * k
                    for r in 0..<s {
                        syn.matrices[r].withUnsafeBufferPointer { m in
                            Gemm.multiply(transposeB: true, m: rows, n: k, k: width, a: sp + r * width, lda: s * width,
                                          b: m.baseAddress!, ldb: width, beta: r == 0 ? 0 : 1, c: coefficients, ldc: k,
                                          parallel: false)
                        }
                    }
                }
            }
        }
    }
}
