import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct LightTests {
    @Test func incompleteGammaMatchesClosedForms() {
        for x in [0.1, 1.0, 2.5, 7.0, 20.0] {
            // P(1, x) = 1 - e^-x; P(1/2, x) = erf(sqrt x): relative error at double precision.
            #expect(abs(IncompleteGamma.regularizedLower(1, x) - (1 - exp(-x))) < 1e-14)
            #expect(abs(IncompleteGamma.regularizedLower(0.5, x) - erf(x.squareRoot())) < 1e-13)
        }
    }

    @Test func exactBnMatchesReferenceValues() {
        // Reference b_n from DESIGN.md (8 decimals).
        for (n, expected) in [(1.0, 1.67834699), (1.5, 2.67406031), (2.5, 4.67090888), (4.0, 7.66924944)] {
            let bn = SersicProfile.exactBn(n)
            #expect(abs(bn - expected) < 1e-8)
            #expect(abs(IncompleteGamma.regularizedLower(2 * n, bn) - 0.5) < 1e-12)
        }
    }

    @Test func sersicAmplitudeIsIntensityAtHalfLightEllipse() {
        let (e1, e2) = Ellipticity.components(q: 0.6, phi: 0.4)
        let s = SersicProfile(amp: 2.5, rSersic: 0.3, nSersic: 1.3, e1: e1, e2: e2, centerX: 0.1, centerY: -0.2)
        // Points on the ellipse q x'^2 + y'^2/q = R^2: major semi-axis R/sqrt(q) along phi.
        for t in stride(from: 0.0, to: 6.28, by: 0.7) {
            let u = 0.3 / 0.6.squareRoot() * cos(t), v = 0.3 * 0.6.squareRoot() * sin(t)
            let x = 0.1 + cos(0.4) * u - sin(0.4) * v, y = -0.2 + sin(0.4) * u + cos(0.4) * v
            #expect(abs(s.intensity(x: x, y: y) - 2.5) < 1e-12)
        }
        #expect(abs(s.intensity(x: 0.1, y: -0.2) - 2.5 * exp(s.bn)) < 1e-9)
    }

    /// The `SIMDMath.width`-lane intensity the renderer uses equals the scalar one to 1e-13 relative (n = 0.8 to 4, elliptical,
    /// off-centre, at the centre itself), and is zero exactly where the scaled radius reaches the cutoff.
    @Test func sersicFourLaneIntensityMatchesScalar() {
        var g = SeededGenerator(seed: 9)
        for n in [0.8, 1, 2.5, 4] {
            let sersic = SersicProfile(amp: 2, rSersic: 0.3, nSersic: n, e1: 0.1, e2: -0.2, centerX: 0.05, centerY: -0.1)
            for _ in 0..<500 {
                var x = SIMDMath.Vector(), y = SIMDMath.Vector()
                for l in 0..<SIMDMath.width { x[l] = 6 * g.nextUniformDouble() - 3; y[l] = 6 * g.nextUniformDouble() - 3 }
                x[0] = 0.05
                y[0] = -0.1
                let cutoff = 40.0, lanes = sersic.intensity(x: x, y: y, cutoff: cutoff)
                for l in 0..<SIMDMath.width {
                    let r2 = sersic.scaledRadiusSquared(x: x[l], y: y[l])
                    let expected = r2 < cutoff ? sersic.intensity(scaledRadiusSquared: r2) : 0
                    #expect(abs(lanes[l] - expected) <= 1e-13 * expected, "n \(n) at (\(x[l]), \(y[l]))")
                }
            }
        }
    }

    @Test func sersicHalfLightRadiusEnclosesHalfTheFlux() {
        // Circular n = 2 profile: integrate 2 pi R I(R) dR numerically (midpoint, 20000 cells to 60 R_e).
        let s = SersicProfile(amp: 1, rSersic: 0.4, nSersic: 2)
        var inside = 0.0, total = 0.0
        let cells = 20000, rMax = 24.0, dr = rMax / Double(cells)
        for k in 0..<cells {
            let r = (Double(k) + 0.5) * dr
            let ring = 2 * Double.pi * r * s.intensity(x: r, y: 0) * dr
            total += ring
            if r < 0.4 { inside += ring }
        }
        // Midpoint-rule error ~1e-6 relative with the cusp at the centre; the R_e cell boundary adds ~dr.
        #expect(abs(inside / total - 0.5) < 2e-3)
    }
}
