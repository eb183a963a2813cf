import Core
import Foundation
import Testing
import TestSupport
@testable import Equivariant

@Suite struct R2ConvTests {
    static let c8 = SymmetryGroup.cyclic(8)

    func smooth(_ shape: [Int], seed: UInt64, sigma: Double = 2) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return SmoothRandomField.make(shape, sigma: sigma, generator: &g)
    }

    @Test(arguments: [0, 1, 2]) func measure45(mode: Int) {
        SteerableBasis.mode = mode
        print("mode", mode)
        for sigma in [2.0] {
            var g = SeededGenerator(seed: 1)
            let lifting = R2Conv(FieldType(Self.c8, trivial: 1), FieldType(Self.c8, regular: 4), kernelSize: 7, padding: 3, generator: &g, supersampling: 8 + mode)
            let x = smooth([2, 1, 49, 49], seed: 2, sigma: sigma)
            let e1 = equivarianceError(of: lifting.forward, input: x, inType: lifting.inType, outType: lifting.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            let group = R2Conv(FieldType(Self.c8, regular: 2), FieldType(Self.c8, regular: 2), kernelSize: 5, padding: 2, generator: &g, supersampling: 8 + mode)
            let y = smooth([2, 16, 49, 49], seed: 3, sigma: sigma)
            let e2 = equivarianceError(of: group.forward, input: y, inType: group.inType, outType: group.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            let e3 = equivarianceError(of: lifting.forward, input: x, inType: lifting.inType, outType: lifting.outType,
                                       element: GroupElement(rotation: 2), diskFraction: 0.5)
            let inv = R2Conv(FieldType(Self.c8, trivial: 1), FieldType(Self.c8, trivial: 2), kernelSize: 7, padding: 3, generator: &g, supersampling: 8 + mode)
            let e4 = equivarianceError(of: inv.forward, input: x, inType: inv.inType, outType: inv.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            let e5 = equivarianceError(of: { $0 }, input: x, inType: inv.inType, outType: inv.inType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            print("90: \(e3) invariant45: \(e4) identity45: \(e5)")
            print("sigma \(sigma): lifting 7x7 45deg \(e1), regular 5x5 45deg \(e2)")
        }
    }
}
