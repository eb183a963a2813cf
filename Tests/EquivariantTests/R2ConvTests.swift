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

    /// Quarter turns (and, for D_N, the reflection) on random inputs: exact up to float32 round-off
    /// (the filters are exact quarter turns of each other and the grid maps to itself), so 1e-5 relative.
    @Test(arguments: [SymmetryGroup.cyclic(8), .cyclic(4), .dihedral(4)])
    func quarterTurnAndReflectionEquivariance(_ group: SymmetryGroup) {
        var g = SeededGenerator(seed: 11)
        let trivial = FieldType(group, trivial: 1), regular = FieldType(group, regular: 2)
        let mixed = FieldType(group, [.trivial(group), .regular(group)])
        let layers: [(String, R2Conv, Int)] = [
            ("lifting k5", R2Conv(trivial, regular, kernelSize: 5, padding: 2, generator: &g), 11),
            ("group k3 stride 2", R2Conv(regular, regular, kernelSize: 3, stride: 2, padding: 1, generator: &g), 9),
            ("projection k3 dilation 2", R2Conv(regular, trivial, kernelSize: 3, padding: 2, dilation: 2, generator: &g), 10),
            ("mixed k5", R2Conv(mixed, mixed, kernelSize: 5, padding: 1, generator: &g), 10),
            ("group k1 stride 2", R2Conv(regular, regular, kernelSize: 1, stride: 2, generator: &g), 9),
        ]
        var elements = [group.quarterTurn(1)!]
        if group.hasReflections { elements.append(GroupElement(rotation: 0, reflected: true)) }
        for (name, layer, size) in layers {
            let x = testTensor([2, layer.inType.size, size, size], seed: 3, requiresGrad: false)
            for e in elements {
                let error = equivarianceError(of: layer.forward, input: x, inType: layer.inType, outType: layer.outType, element: e)
                #expect(error < 1e-5, "\(group) \(name) \(e): \(error)")
            }
        }
    }

    /// A wide 5x5 regular layer (8 -> 8 C8 fields, 64 channels) runs its convolution through tiled FFTs
    /// (`FFTConvolution`); its tiles are not rotation-symmetric, but round-off stays far below 1e-5.
    @Test func fftConvolutionPathKeepsQuarterTurnEquivariance() {
        var g = SeededGenerator(seed: 13)
        let regular = FieldType(Self.c8, regular: 8)
        let layer = R2Conv(regular, regular, kernelSize: 5, padding: 2, generator: &g)
        let geometry = ConvGeometry(batch: 4, inputChannels: 64, height: 64, width: 64, outputChannels: 64,
                                    kernelHeight: 5, kernelWidth: 5, padding: 2)
        #expect(ConvolutionRouter.host.kernel(for: .forward, geometry).name == "FFTConvolution")
        let x = testTensor([4, 64, 64, 64], seed: 4, requiresGrad: false)
        let error = equivarianceError(of: layer.forward, input: x, inType: regular, outType: regular,
                                      element: Self.c8.quarterTurn(1)!)
        #expect(error < 1e-5, "\(error)")
    }

    /// The stride rule `(S + 2p - d(k-1) - 1) % stride == 0`: a stride-2 5x5 layer with padding 2 is exact on
    /// odd sides and clearly not on even ones (the sampled grid is then off-centre by one pixel).
    @Test func strideRuleDecidesQuarterTurnExactness() {
        var g = SeededGenerator(seed: 12)
        let layer = R2Conv(FieldType(Self.c8, trivial: 1), FieldType(Self.c8, regular: 1), kernelSize: 5, stride: 2,
                           padding: 2, generator: &g)
        for (size, exact) in [(11, true), (10, false)] {
            let x = testTensor([1, 1, size, size], seed: 13, requiresGrad: false)
            let error = equivarianceError(of: layer.forward, input: x, inType: layer.inType, outType: layer.outType,
                                          element: GroupElement(rotation: 2))
            #expect(exact ? error < 1e-5 : error > 1e-2, "size \(size): \(error)")
        }
    }

    /// 45 degrees on smooth band-limited inputs (Gaussian-smoothed noise, sigma 2 and 3 px, tapered to zero outside
    /// 0.85 R), compared inside the central disk of radius 0.5 R, C8. The requirement is "at or below e2cnn".
    /// e2cnn 0.2.3 measured on this same protocol (`bench/reference/e2cnn_equivariance.py`: our inputs, our
    /// rotation, 3 seeds x 3 inputs): lifting 7x7 1.8e-2 (sigma 2) / 9.4e-3 (sigma 3) on average, never below
    /// 1.0e-2 / 5e-3; regular 5x5 9.9e-3 / 3.2e-3, never below 7.5e-3 / 2.5e-3. Its published figures (its own
    /// check on much smoother inputs) are 1.9e-3 and 2.1e-4. Measured here (lattice-steered basis): lifting
    /// 5.0e-4 / 2.8e-4, regular 2.6e-4 / 1.5e-4. Bounds: below e2cnn's published figures on both layers (hence far
    /// below its same-protocol errors), and within 2x of our values as a regression guard.
    @Test func fortyFiveDegreeEquivarianceOnSmoothInputs() {
        var g = SeededGenerator(seed: 1)
        let lifting = R2Conv(FieldType(Self.c8, trivial: 1), FieldType(Self.c8, regular: 4), kernelSize: 7, padding: 3, generator: &g)
        let group = R2Conv(FieldType(Self.c8, regular: 2), FieldType(Self.c8, regular: 2), kernelSize: 5, padding: 2, generator: &g)
        for sigma in [2.0, 3.0] {
            let x = smooth([2, 1, 49, 49], seed: 2, sigma: sigma), y = smooth([2, 16, 49, 49], seed: 3, sigma: sigma)
            let e1 = equivarianceError(of: lifting.forward, input: x, inType: lifting.inType, outType: lifting.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            let e2 = equivarianceError(of: group.forward, input: y, inType: group.inType, outType: group.outType,
                                       element: GroupElement(rotation: 1), diskFraction: 0.5)
            print("45-degree relative error, input sigma \(sigma) px: lifting 7x7 \(e1), regular->regular 5x5 \(e2)")
            #expect(e1 < (sigma == 2 ? 1e-3 : 6e-4))
            #expect(e2 < (sigma == 2 ? 5e-4 : 2.1e-4))
        }
    }

    /// Finite differences for the basis coefficients (and bias and input) through the FFT expansion and conv2d.
    @Test func gradientsThroughExpansion() {
        var g = SeededGenerator(seed: 4)
        let group = SymmetryGroup.cyclic(4)
        let layer = R2Conv(FieldType(group, regular: 1), FieldType(group, [.regular(group), .trivial(group)]),
                           kernelSize: 3, padding: 1, generator: &g)
        layer.bias!.assign([0.3, -0.2])
        let x = testTensor([1, 4, 4, 4], seed: 5)
        let error = gradientCheckError([layer.weight, layer.bias!, x]) { _ in layer(x) }
        #expect(error < 5e-3)
    }

    @Test func exportGivesTheSameOutput() {
        var g = SeededGenerator(seed: 6)
        let layer = R2Conv(FieldType(Self.c8, trivial: 2), FieldType(Self.c8, regular: 2), kernelSize: 5, stride: 2,
                           padding: 2, generator: &g)
        layer.bias!.assign([0.5, -1])
        let conv = layer.export()
        let x = testTensor([2, 2, 9, 9], seed: 7, requiresGrad: false)
        #expect(relativeError(conv(x).scalars, layer(x).scalars) < 1e-6)
        #expect(conv.weight.shape == [16, 2, 5, 5])
    }

    /// Eval mode caches the expanded filter; any change of the coefficients (an optimizer step bumps
    /// `Tensor.version`) rebuilds it. The cache never appears in the state dict.
    @Test func evalCacheIsInvalidatedByWeightChanges() {
        var g = SeededGenerator(seed: 8)
        let layer = R2Conv(FieldType(Self.c8, regular: 1), FieldType(Self.c8, regular: 1), kernelSize: 3, padding: 1, generator: &g)
        let x = testTensor([1, 8, 5, 5], seed: 9, requiresGrad: false)
        layer.eval()
        let before = withoutGradient { layer(x) }
        #expect(layer.hasCachedFilter)
        #expect(withoutGradient { layer(x) }.scalars == before.scalars)
        layer.weight.scalars = layer.weight.scalars.map { $0 * 1.5 }  // what an optimizer step does
        let after = withoutGradient { layer(x) }
        #expect(relativeError(after.scalars, before.scalars.map { $0 * 1.5 }) < 1e-6)
        layer.bias!.scalars[0] = 2
        #expect(withoutGradient { layer(x) }.scalars[0] != after.scalars[0])
        #expect(layer.namedTensors().map(\.key) == ["weight", "bias"])
        layer.train()
        #expect(!layer.hasCachedFilter)
    }

    @Test func initialisationGivesHeScaledFilters() {
        var g = SeededGenerator(seed: 10)
        let layer = R2Conv(FieldType(Self.c8, regular: 4), FieldType(Self.c8, regular: 4), kernelSize: 5, generator: &g)
        let filter = withoutGradient { layer.expandedFilter().weight }
        let meanSquareNorm = filter.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(layer.outType.size)
        // 1408 random coefficients: the realised squared norm fluctuates by a few percent about its expectation 2.
        #expect(abs(meanSquareNorm - 2) < 0.2)
        #expect(layer.weight.count == 4 * 4 * 88)
    }
}
