@testable import Core
import Foundation
import Testing

@Suite struct GaussianTests {
    /// `exp(-d^2 / (2 sigma^2))`: 1 at the centre, `e^(-1/2)` one sigma out, the same in 1-D and as a squared distance.
    @Test func profileValues() {
        #expect(Gaussian.profile(0, sigma: 0.7) == 1)
        #expect(abs(Gaussian.profile(1.5, sigma: 1.5) - Foundation.exp(-0.5)) < 1e-15)
        #expect(abs(Gaussian.profile(-2, sigma: 1) - Foundation.exp(-2)) < 1e-15)
        #expect(Gaussian.profile(squaredDistance: 0.8 * 0.8, sigma: 0.6) == Gaussian.profile(0.8, sigma: 0.6))
    }

    /// A centred point-sampled kernel sums to 1, is symmetric to the bit, and has the Gaussian's ratios between taps.
    @Test(arguments: [(5, 1.0), (9, 0.3), (7, 2.5), (1, 0.8)])
    func pointKernelIsNormalisedAndSymmetric(_ c: (Int, Double)) {
        let (size, sigma) = c
        let k = Gaussian.kernel(size: size, sigma: sigma)
        #expect(k.count == size)
        #expect(abs(k.reduce(0, +) - 1) < 4 * Double.ulpOfOne)
        #expect(k == Array(k.reversed()))
        let centre = size / 2
        for t in 0..<size {
            let d = Double(t - centre)
            #expect(abs(k[t] / k[centre] - Foundation.exp(-d * d / (2 * sigma * sigma))) < 1e-14, "tap \(t)")
        }
    }

    /// Size 5, sigma 1: the taps are `e^(-d^2/2)` over their sum `1 + 2 e^(-1/2) + 2 e^(-2)`.
    @Test func pointKernelValueAtATap() {
        let total = 1 + 2 * Foundation.exp(-0.5) + 2 * Foundation.exp(-2)
        let k = Gaussian.kernel(size: 5, sigma: 1)
        #expect(abs(k[2] - 1 / total) < 1e-15)
        #expect(abs(k[0] - Foundation.exp(-2) / total) < 1e-15)
    }

    /// Pixel integrals over a window far wider than sigma: the centre tap holds `erf(1 / (2 sigma sqrt 2))` of the mass,
    /// the next `(erf(3 / (2 sigma sqrt 2)) - erf(1 / (2 sigma sqrt 2))) / 2`, and the offsets keep their given order.
    @Test func pixelIntegralKernel() {
        let sigma = 1.3, s = 1 / (sigma * 2.0.squareRoot())
        let offsets = Array(0...12) + Array(-12 ... -1)
        let k = Gaussian.kernel(offsets: offsets, sigma: sigma, sampling: .pixelIntegral)
        #expect(abs(k.reduce(0, +) - 1) < 32 * Double.ulpOfOne)
        #expect(abs(k[0] - erf(0.5 * s)) < 1e-12)
        #expect(abs(k[1] - 0.5 * (erf(1.5 * s) - erf(0.5 * s))) < 1e-12)
        #expect(k[1] == k[offsets.count - 1], "offsets +1 and -1")
        #expect(abs(Gaussian.kernel(size: 25, sigma: sigma, sampling: .pixelIntegral)[12] - k[0]) < 1e-15)
    }
}
