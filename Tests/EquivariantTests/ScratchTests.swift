import Core
import Foundation
import Testing
import TestSupport
@testable import Equivariant

@Suite struct ScratchTests {
    @Test func scan() {
        let c8 = SymmetryGroup.cyclic(8)
        for w in [(0.6, 0.4), (0.7, 0.5), (0.8, 0.6), (0.6, 0.6), (0.9, 0.7), (0.5, 0.4)] {
            SteerableBasis.widths = w
            var g = SeededGenerator(seed: 1)
            let lifting = R2Conv(FieldType(c8, trivial: 1), FieldType(c8, regular: 4), kernelSize: 7, padding: 3, generator: &g)
            let group = R2Conv(FieldType(c8, regular: 2), FieldType(c8, regular: 2), kernelSize: 5, padding: 2, generator: &g)
            var gg = SeededGenerator(seed: 2)
            let x = SmoothRandomField.make([2, 1, 49, 49], sigma: 2, generator: &gg)
            let y = SmoothRandomField.make([2, 16, 49, 49], sigma: 2, generator: &gg)
            let e1 = equivarianceError(of: lifting.forward, input: x, inType: lifting.inType, outType: lifting.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            let e2 = equivarianceError(of: group.forward, input: y, inType: group.inType, outType: group.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            print("widths \(w): lifting \(e1) group \(e2)")
        }
    }
}
