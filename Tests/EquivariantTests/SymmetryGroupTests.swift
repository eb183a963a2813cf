import Foundation
import Testing
@testable import Equivariant

@Suite struct SymmetryGroupTests {
    static let groups: [SymmetryGroup] = [.cyclic(1), .cyclic(4), .cyclic(5), .cyclic(8), .dihedral(1), .dihedral(4), .dihedral(8)]

    @Test(arguments: groups) func groupAxioms(_ g: SymmetryGroup) {
        let els = g.elements
        #expect(els.count == g.order)
        for a in els {
            #expect(g.compose(a, g.identity) == a && g.compose(g.identity, a) == a)
            #expect(g.compose(a, g.inverse(a)) == g.identity)
            #expect(g.element(at: g.index(of: a)) == a)
            for b in els { for c in els { #expect(g.compose(g.compose(a, b), c) == g.compose(a, g.compose(b, c))) } }
        }
    }

    @Test func parsesNames() {
        #expect(SymmetryGroup(name: "C8") == .cyclic(8))
        #expect(SymmetryGroup(name: "d4") == .dihedral(4))
        #expect(SymmetryGroup(name: "X3") == nil)
        #expect(SymmetryGroup(name: "C0") == nil)
        #expect(SymmetryGroup.cyclic(8).quarterTurn(1) == GroupElement(rotation: 2))
        #expect(SymmetryGroup.cyclic(6).quarterTurn(1) == nil)
    }

    func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<d { c[i * d + j] += a[i * d + k] * b[k * d + j] } } }
        return c
    }

    @Test(arguments: groups) func representationsAreHomomorphisms(_ g: SymmetryGroup) {
        let reps = [Representation.trivial(g), .regular(g)] + Representation.irreducibles(of: g)
        for rep in reps {
            for a in g.elements {
                for b in g.elements {
                    let lhs = rep.matrix(g.compose(a, b)), rhs = multiply(rep.matrix(a), rep.matrix(b), rep.size)
                    #expect(zip(lhs, rhs).allSatisfy { abs($0 - $1) < 1e-12 }, "\(rep) at \(a), \(b)")
                }
            }
        }
    }

    /// The regular representation contains every real irrep with multiplicity `<chi_reg, chi> / <chi, chi>`
    /// (1 for 1-D irreps and the complex-type 2-D irreps of C_N, 2 for the 2-D irreps of D_N), and the
    /// multiplicities times dimensions add up to |G|.
    @Test(arguments: groups) func regularRepresentationDecomposes(_ g: SymmetryGroup) {
        let regular = Representation.regular(g)
        var total = 0.0
        for irrep in Representation.irreducibles(of: g) {
            let inner = g.elements.reduce(0.0) { $0 + regular.character($1) * irrep.character($1) }
            let norm = g.elements.reduce(0.0) { $0 + irrep.character($1) * irrep.character($1) }
            let multiplicity = inner / norm
            #expect(multiplicity > 0.5, "\(irrep) missing from the regular representation of \(g)")
            total += multiplicity * Double(irrep.size)
        }
        #expect(abs(total - Double(g.order)) < 1e-9)
    }

    @Test func permutationsMatchMatrices() {
        let g = SymmetryGroup.dihedral(4)
        let type = FieldType(g, [.trivial(g), .regular(g), .trivial(g)])
        #expect(type.size == 10)
        for e in g.elements {
            let perm = type.permutation(e), m = type.matrix(e)
            for c in 0..<type.size { #expect(m[c * type.size + perm[c]] == 1) }
        }
        #expect(type.description == "FieldType(D4: 1xtrivial, 1xregular, 1xtrivial)")
    }
}
