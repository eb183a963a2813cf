import Core
import Foundation
import Testing
import TestSupport
@testable import Equivariant

@Suite struct FilterExpansionTests {
    func coefficients(_ expansion: FilterExpansion, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return g.normals(expansion.coefficientCount)
    }

    func filter(_ bank: [Float], _ o: Int, _ i: Int, cin: Int, taps: Int) -> Tensor {
        Tensor(shape: [Int(Double(taps).squareRoot()), Int(Double(taps).squareRoot())],
               scalars: Array(bank[((o * cin + i) * taps)..<((o * cin + i + 1) * taps)]))
    }

    /// Lifting C4: output orientation r holds the base filter turned r quarter turns.
    @Test func liftingCopiesAreRotations() {
        let g = SymmetryGroup.cyclic(4)
        let e = FilterExpansion(from: FieldType(g, trivial: 2), to: FieldType(g, regular: 3), kernelSize: 5)
        let bank = e.apply(coefficients(e, seed: 1))
        for fo in 0..<3 {
            for fi in 0..<2 {
                let base = filter(bank, fo * 4, fi, cin: 2, taps: 25)
                for r in 1..<4 {
                    let copy = filter(bank, fo * 4 + r, fi, cin: 2, taps: 25)
                    #expect(relativeError(copy.scalars, ImageRotation.rot90(base, times: r).scalars) < 1e-5)
                }
            }
        }
    }

    /// Regular -> regular C4: `psi[e, h] = rot_e(psi[0, h - e])` (rotation plus cyclic shift of the input axis).
    @Test func groupConvolutionCopiesAreRotatedAndShifted() {
        let g = SymmetryGroup.cyclic(4)
        let e = FilterExpansion(from: FieldType(g, regular: 1), to: FieldType(g, regular: 2), kernelSize: 3)
        let bank = e.apply(coefficients(e, seed: 2))
        for fo in 0..<2 {
            for r in 0..<4 {
                for h in 0..<4 {
                    let copy = filter(bank, fo * 4 + r, h, cin: 4, taps: 9)
                    let base = filter(bank, fo * 4, ((h - r) % 4 + 4) % 4, cin: 4, taps: 9)
                    #expect(relativeError(copy.scalars, ImageRotation.rot90(base, times: r).scalars) < 1e-5)
                }
            }
        }
    }

    /// D4 lifting: the reflected orientation (s = 1, r = 0) is the top-bottom mirror of the base filter.
    @Test func dihedralCopiesAreReflections() {
        let g = SymmetryGroup.dihedral(4)
        let e = FilterExpansion(from: FieldType(g, trivial: 1), to: FieldType(g, regular: 1), kernelSize: 5)
        let bank = e.apply(coefficients(e, seed: 3))
        let base = filter(bank, 0, 0, cin: 1, taps: 25)
        for r in 0..<4 {
            let copy = filter(bank, 4 + r, 0, cin: 1, taps: 25)
            let expected = ImageRotation.rot90(ImageRotation.flipVertical(base), times: r)
            #expect(relativeError(copy.scalars, expected.scalars) < 1e-5)
        }
    }

    /// Trivial -> trivial filters are invariant: unchanged by quarter turns (and flips for D_N).
    @Test func invariantFiltersAreSymmetric() {
        for g in [SymmetryGroup.cyclic(4), .dihedral(4)] {
            let e = FilterExpansion(from: FieldType(g, trivial: 1), to: FieldType(g, trivial: 1), kernelSize: 7)
            let f = Tensor(shape: [7, 7], scalars: e.apply(coefficients(e, seed: 4)))
            #expect(relativeError(ImageRotation.rot90(f, times: 1).scalars, f.scalars) < 1e-5)
            if g.hasReflections { #expect(relativeError(ImageRotation.flipVertical(f).scalars, f.scalars) < 1e-5) }
        }
    }

    /// The packed complex FFT path equals the synthesis written out: copy `e` of a free filter is the c2r sum
    /// `sum_q H_q exp(2 pi i q e / N)` of its half spectrum, evaluated in double precision. Regular -> regular C8
    /// with 5 -> 4 fields has 160 rows, so a full chunk and a remainder chunk both run; C3 has no Nyquist bin.
    @Test(arguments: [SymmetryGroup.cyclic(8), .cyclic(3)])
    func groupCopiesMatchTheDirectSynthesis(_ g: SymmetryGroup) {
        let n = g.order, fieldsIn = 5, fieldsOut = 4
        let e = FilterExpansion(from: FieldType(g, regular: fieldsIn), to: FieldType(g, regular: fieldsOut), kernelSize: 5)
        let syn = FilterExpansion.synthesis(kind: .group, group: g, basis: e.basis)
        let taps = e.basis.tapCount, half = syn.halfSpectrum, k = syn.coefficientCount, m = syn.matrices[0]
        let c = coefficients(e, seed: 8)
        let bank = e.apply(c)
        var worst = 0.0, scale = 0.0
        for o in 0..<fieldsOut {
            for i in 0..<fieldsIn {
                for d in 0..<n {
                    let free = Array(c[((o * fieldsIn + i) * n + d) * k..<((o * fieldsIn + i) * n + d + 1) * k])
                    for r in 0..<n {
                        let ic = i * n + (r + d) % n
                        for t in 0..<taps {
                            var value = 0.0
                            for q in 0..<half {
                                var re = 0.0, im = 0.0
                                for j in 0..<k {
                                    re += Double(free[j]) * Double(m[((j * half + q) * taps + t) * 2])
                                    im += Double(free[j]) * Double(m[((j * half + q) * taps + t) * 2 + 1])
                                }
                                let angle = 2 * Double.pi * Double(q * r) / Double(n)
                                let term = re * cos(angle) - im * sin(angle)
                                value += (q == 0 || 2 * q == n) ? term : 2 * term
                            }
                            let got = Double(bank[(((o * n + r) * fieldsIn * n) + ic) * taps + t])
                            worst = max(worst, abs(got - value))
                            scale = max(scale, abs(value))
                        }
                    }
                }
            }
        }
        #expect(worst < 1e-5 * scale, "\(g): largest difference \(worst) at scale \(scale)")
    }

    /// `<A c, y> = <c, A^T y>` for every kind of block, C8 and D4, mixed field types.
    @Test(arguments: [SymmetryGroup.cyclic(8), .dihedral(4), .cyclic(1), .cyclic(3)])
    func adjointIsTheTranspose(_ g: SymmetryGroup) {
        let input = FieldType(g, [.trivial(g), .regular(g), .regular(g)])
        let output = FieldType(g, [.regular(g), .trivial(g), .regular(g)])
        let e = FilterExpansion(from: input, to: output, kernelSize: 5)
        let c = coefficients(e, seed: 5)
        var gen = SeededGenerator(seed: 6)
        let y = gen.normals(e.outputShape.reduce(1, *))
        let lhs = zip(e.apply(c), y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(c, e.applyAdjoint(y)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "\(g): \(lhs) vs \(rhs)")
    }

    /// Finite differences through the FFT expansion: the tape's coefficient gradient is the adjoint.
    @Test func gradientThroughExpansion() {
        let g = SymmetryGroup.cyclic(8)
        let e = FilterExpansion(from: FieldType(g, regular: 1), to: FieldType(g, regular: 1), kernelSize: 3)
        let c = Tensor(shape: [e.coefficientCount], scalars: coefficients(e, seed: 7), requiresGrad: true)
        let error = gradientCheckError([c]) { $0[0].applying(e) }
        #expect(error < 2e-3)
    }

    @Test func expansionsAreSharedPerShape() {
        let g = SymmetryGroup.cyclic(8)
        let a = FilterExpansion.shared(from: FieldType(g, regular: 2), to: FieldType(g, regular: 3), kernelSize: 5)
        let b = FilterExpansion.shared(from: FieldType(g, regular: 2), to: FieldType(g, regular: 3), kernelSize: 5)
        #expect(a === b)
    }
}
