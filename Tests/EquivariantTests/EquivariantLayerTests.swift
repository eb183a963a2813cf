import Core
import Foundation
import Testing
import TestSupport
@testable import Equivariant

/// Quarter-turn (and reflection) equivariance of every equivariant layer on random inputs, at sizes where the stride
/// rule `(S + 2p - k) % stride == 0` holds; exact up to float32 round-off, so 1e-5 relative.
@Suite struct EquivariantLayerTests {
    func elements(_ group: SymmetryGroup) -> [GroupElement] {
        var result = [group.quarterTurn(1)!]
        if group.hasReflections { result.append(GroupElement(rotation: 1, reflected: true)) }
        return result
    }

    /// One layer of every `EquivariantLayer` type (several configurations of some), with an input side where it is
    /// exactly equivariant.
    func layers(_ group: SymmetryGroup) -> [(layer: any EquivariantLayer, size: Int, name: String)] {
        var g = SeededGenerator(seed: 31)
        let regular = FieldType(group, regular: 3), trivial = FieldType(group, trivial: 1)
        let mixed = FieldType(group, [.regular(group), .trivial(group), .regular(group)])
        let bn = EquivariantBatchNorm(regular)
        let evalBN = EquivariantBatchNorm(regular)
        evalBN.eval()
        let dropout = FieldDropout(regular, probability: 0.5, generator: SeededGenerator(seed: 3))
        dropout.eval()
        return [
            (bn, 6, "batch norm (training)"), (evalBN, 6, "batch norm (eval)"),
            (PointwiseNonlinearity(mixed, .relu), 6, "relu"), (PointwiseNonlinearity(regular, .elu(alpha: 1)), 6, "elu"),
            (PointwisePool(regular, .max, kernelSize: 2), 8, "max pool 2 on 8"),
            (PointwisePool(mixed, .average, kernelSize: 3, stride: 2, padding: 1), 9, "avg pool 3/2 on 9"),
            (AntiAliasedAvgPool(regular, sigma: 0.6, stride: 2), 9, "anti-aliased pool on 9"),
            (GroupPooling(regular, .max), 6, "group max pooling"), (GroupPooling(mixed, .mean), 6, "group mean pooling (mixed)"),
            (DiskMask(regular), 7, "disk mask"), (dropout, 5, "field dropout (eval)"),
            (R2Conv(trivial, regular, kernelSize: 5, padding: 2, generator: &g), 7, "lifting R2Conv 5x5"),
            (R2Conv(regular, mixed, kernelSize: 3, stride: 2, padding: 1, generator: &g), 9, "R2Conv 3x3/2 on 9"),
        ]
    }

    @Test(arguments: [SymmetryGroup.cyclic(8), .dihedral(4)])
    func layersCommuteWithQuarterTurnsAndReflections(_ group: SymmetryGroup) {
        for (layer, size, name) in layers(group) {
            let x = testTensor([3, layer.inType.size, size, size], seed: 21, requiresGrad: false)
            for e in elements(group) {
                let error = equivarianceError(of: layer.forward, input: x, inType: layer.inType, outType: layer.outType,
                                              element: e)
                #expect(error < 1e-5, "\(name) \(group) \(e): \(error)")
            }
        }
    }

    @Test func fieldDropoutCommutesForTheSameDraw() {
        let group = SymmetryGroup.cyclic(8), type = FieldType(group, regular: 4)
        let a = FieldDropout(type, probability: 0.5, generator: SeededGenerator(seed: 3))
        let b = FieldDropout(type, probability: 0.5, generator: SeededGenerator(seed: 3))
        let x = testTensor([2, type.size, 5, 5], seed: 4, requiresGrad: false)
        let e = GroupElement(rotation: 2)
        let lhs = a(GroupAction.transform(x, by: e, type: type))
        let rhs = GroupAction.transform(b(x), by: e, type: type)
        #expect(relativeError(lhs.scalars, rhs.scalars) < 1e-6)
        let zeroChannels = (0..<(2 * type.size)).filter { c in (0..<25).allSatisfy { lhs.scalars[c * 25 + $0] == 0 } }.count
        #expect(zeroChannels % 8 == 0 && zeroChannels > 0)  // whole fields dropped
        a.eval()
        #expect(a(x).scalars == x.scalars)
    }

    /// Statistics are shared by the |G| channels of a field: the running mean of a field is the mean over all
    /// of its channels and pixels.
    @Test func batchNormSharesStatisticsOverOrientations() {
        let group = SymmetryGroup.cyclic(4), type = FieldType(group, regular: 2)
        let bn = EquivariantBatchNorm(type, momentum: 1)
        let x = testTensor([2, 8, 3, 3], seed: 5, requiresGrad: false)
        _ = bn(x)
        var mean0 = 0.0
        for s in 0..<2 { for c in 0..<4 { for p in 0..<9 { mean0 += Double(x.scalars[(s * 8 + c) * 9 + p]) } } }
        #expect(abs(Double(bn.runningMean.scalars[0]) - mean0 / 72) < 1e-6)
        #expect(bn.namedTensors().map(\.key) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
    }

    /// The group action is a homomorphism on feature maps: g . (h . f) = (g h) . f (exact for quarter turns and flips).
    @Test func groupActionIsAHomomorphism() {
        let group = SymmetryGroup.dihedral(4), type = FieldType(group, [.regular(group), .trivial(group)])
        let x = testTensor([1, type.size, 5, 5], seed: 6, requiresGrad: false)
        for a in group.elements {
            for b in group.elements {
                let lhs = GroupAction.transform(GroupAction.transform(x, by: b, type: type), by: a, type: type)
                let rhs = GroupAction.transform(x, by: group.compose(a, b), type: type)
                #expect(lhs.scalars == rhs.scalars, "\(a) \(b)")
            }
        }
    }
}
