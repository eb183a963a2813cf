import Backbones
import Core
import Equivariant
import Foundation
import Testing
import TestSupport

@Suite struct EquivariantResNetTests {
    /// A strided block with its 1x1 shortcut is an `EquivariantLayer` from `inType` to `outType`: exact for quarter
    /// turns on a side where the stride rule holds (`(9 + 2 - 3) % 2 == 0`), so 1e-5 relative.
    @Test func basicBlockCommutesWithQuarterTurnsBetweenItsTypes() {
        var g = SeededGenerator(seed: 5)
        let c8 = SymmetryGroup.cyclic(8)
        let block: any EquivariantLayer = EquivariantBasicBlock(FieldType(c8, regular: 2), FieldType(c8, regular: 3),
                                                                stride: 2, generator: &g)
        block.eval()
        let x = testTensor([2, block.inType.size, 9, 9], seed: 6, requiresGrad: false)
        let error = equivarianceError(of: block.forward, input: x, inType: block.inType, outType: block.outType,
                                      element: c8.quarterTurn(1)!)
        #expect(error < 1e-5, "\(error)")
    }

    @Test func validSidesFollowTheStrideRule() {
        #expect(EquivariantInputResampler.validSide(near: 64) == 65)
        #expect(EquivariantInputResampler.validSide(near: 150) == 161)
        #expect(EquivariantInputResampler.validSide(near: 129) == 129)
        #expect(EquivariantInputResampler.validSide(near: 33) == 33)
        // Every strided layer then satisfies (S + 2p - k) % stride == 0.
        for side in [33, 65, 129, 161] {
            var s = side
            for (k, p) in [(7, 3), (3, 1), (3, 1), (3, 1), (3, 1)] {
                #expect((s + 2 * p - k) % 2 == 0, "side \(side) breaks at \(s)")
                s = (s + 2 * p - k) / 2 + 1
            }
        }
    }

    @Test func resamplerCommutesWithQuarterTurns() {
        for side in [64, 63] {
            let resample = EquivariantInputResampler(inputSide: side)
            let x = testTensor([1, 1, side, side], seed: 7, requiresGrad: false)
            let a = resample(ImageRotation.rot90(x, times: 1))
            let b = ImageRotation.rot90(resample(x), times: 1)
            #expect(relativeError(a.scalars, b.scalars) < 1e-6)
        }
    }

    @Test func c8FeaturesAreInvariantToQuarterTurnsInEvalMode() {
        let model = EquivariantResNet(group: .cyclic(8), seed: 11)
        _ = withoutGradient { model(testTensor([4, 1, 33, 33], seed: 1, requiresGrad: false)) }  // non-trivial BN statistics
        model.eval()
        var g = SeededGenerator(seed: 3)
        let x = SmoothRandomField.make([2, 1, 64, 64], sigma: 2, generator: &g)
        for quarter in 1...3 {
            let element = GroupElement(rotation: 2 * quarter)
            let error = featureInvarianceError(of: model, images: x, element: element, group: .cyclic(8))
            #expect(error < 1e-4, "rot \(90 * quarter): \(error)")
        }
        let error45 = featureInvarianceError(of: model, images: x, element: GroupElement(rotation: 1), group: .cyclic(8))
        print("c8resnet 45-degree feature invariance error (smooth 64x64 input, untrained):", error45)
        #expect(error45 < 0.2)
    }

    @Test func d8FeaturesAreInvariantToReflections() {
        let model = EquivariantResNet(group: .dihedral(8), seed: 12)
        model.eval()
        var g = SeededGenerator(seed: 4)
        let x = SmoothRandomField.make([1, 1, 33, 33], sigma: 2, generator: &g)
        let error = featureInvarianceError(of: model, images: x, element: GroupElement(rotation: 0, reflected: true),
                                           group: .dihedral(8))
        #expect(error < 1e-4)
    }

    @Test func gradientsReachEveryParameterAndShapes() {
        let model = EquivariantResNet(group: .cyclic(4), seed: 13)
        let x = testTensor([2, 1, 33, 33], seed: 2, requiresGrad: false)
        let y = model(x)
        #expect(y.shape == [2, 256])
        (y * y).mean().backward()
        for (key, p) in model.namedParameters() {
            #expect(p.grad?.scalars.contains { $0 != 0 } == true, "no gradient reached \(key)")
        }
    }

    @Test func widthPresets() {
        #expect(EquivariantResNet(group: .cyclic(8), width: .channelMatched).stageFields == [8, 16, 32, 64])
        #expect(EquivariantResNet(group: .cyclic(8), width: .parameterMatched).stageFields == [23, 45, 91, 181])
    }
}
