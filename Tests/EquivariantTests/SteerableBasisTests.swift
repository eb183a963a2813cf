import Core
import Foundation
import Testing
import TestSupport
@testable import Equivariant

@Suite struct SteerableBasisTests {
    /// Basis sizes (functions per free filter) and the band-limit rule that produces them:
    /// k=3: rings 0,1 with max frequency 0,2 -> 1 + 5 = 6; k=5: 0,2,2 -> 1 + 5 + 5 = 11;
    /// k=7: 0,2,3,2 -> 1 + 5 + 7 + 5 = 18 (each ring j contributes 2 mMax(j) + 1 functions, the centre 1).
    /// Per pair of C8 fields: lifting and projection K, regular -> regular 8 K (one free filter per input
    /// orientation offset): 11 and 88 for k=5, 18 and 144 for k=7, e2cnn's counts.
    @Test func basisSizesForCommonKernels() {
        var table: [String] = []
        for (k, expected) in [(3, 6), (5, 11), (7, 18)] {
            let basis = SteerableBasis.shared(kernelSize: k)
            #expect(basis.count == expected, "k=\(k)")
            let c8 = SymmetryGroup.cyclic(8)
            let lifting = FilterExpansion.coefficientsPerPair(out: .regular(c8), in: .trivial(c8), kernelSize: k)
            let group = FilterExpansion.coefficientsPerPair(out: .regular(c8), in: .regular(c8), kernelSize: k)
            let invariant = FilterExpansion.coefficientsPerPair(out: .trivial(c8), in: .trivial(c8), kernelSize: k)
            #expect(lifting == expected && group == 8 * expected)
            let rings = (0...((k - 1) / 2)).map { SteerableBasis.maximumFrequency(ring: $0, ringCount: (k + 1) / 2) }
            table.append("k=\(k): max frequency per ring \(rings), K=\(basis.count), C8 lifting \(lifting), regular->regular \(group), trivial->trivial \(invariant)")
        }
        print(table.joined(separator: "\n"))
    }

    /// Continuous functions have unit norm, so the sampled taps of a ring function have a norm near 1 (the sum
    /// of squared pixel means approximates the integral of the square), below 1 by the footprint's low-pass.
    @Test func functionsAreNormalised() {
        let basis = SteerableBasis.shared(kernelSize: 5)
        for k in 0..<basis.count {
            let f = basis.filter(k)
            let norm = f.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(norm > 0.3 && norm <= 1.05, "\(basis.functions[k]): \(norm)")
        }
    }

    /// Rotating the continuous function by 90 degrees before area integration equals a quarter turn of the taps
    /// (the pixel grid and the supersampling pattern are symmetric under quarter turns and flips).
    @Test func quarterTurnAndReflectionAreExactOnTheGrid() {
        let basis = SteerableBasis.shared(kernelSize: 7)
        for k in 0..<basis.count {
            let f = Tensor(shape: [7, 7], scalars: basis.filter(k))
            let turned = basis.filter(k, angle: Double.pi / 2)
            #expect(relativeError(turned, ImageRotation.rot90(f, times: 1).scalars) < 1e-5, "\(basis.functions[k])")
            let mirrored = basis.filter(k, reflected: true)
            #expect(relativeError(mirrored, ImageRotation.flipVertical(f).scalars) < 1e-5, "\(basis.functions[k])")
        }
    }

    /// `LatticeSteering` removes most of the lattice-aliased angular orders from every harmonic's spectrum on
    /// the band of smooth inputs while moving the samples only slightly (so the basis keeps its shape and
    /// conditioning). Printed: per function, spurious energy before -> after, relative change of the samples.
    @Test func latticeSteeringRemovesAliasedOrders() {
        for k in [5, 7] {
            let plain = SteerableBasis(kernelSize: k, latticeSteering: false), steered = SteerableBasis.shared(kernelSize: k)
            let steering = LatticeSteering(kernelSize: k)
            var lines: [String] = []
            var totalBefore = 0.0, totalAfter = 0.0
            for (i, f) in steered.functions.enumerated() where f.ring > 0 && !f.isSine {
                let b0 = plain.harmonicSamples[i].map(Double.init), b = steered.harmonicSamples[i].map(Double.init)
                let before = steering.spuriousEnergy(b0, frequency: f.frequency)
                let after = steering.spuriousEnergy(b, frequency: f.frequency)
                let change = relativeError(steered.harmonicSamples[i], plain.harmonicSamples[i])
                totalBefore += before
                totalAfter += after
                lines.append(String(format: "j%d m%d %.1e->%.1e (%.3f)", f.ring, f.frequency, before, after, change))
                #expect(after <= before * 1.0001, "k=\(k) \(f)")
                #expect(change < 0.1, "k=\(k) \(f): samples moved by \(change)")
            }
            print("k=\(k) lattice steering: " + lines.joined(separator: ", "))
            #expect(totalAfter < totalBefore / 10, "k=\(k): \(totalBefore) -> \(totalAfter)")
        }
    }
}
