import Foundation
import Core

/// Poisson variates from a `SeededGenerator`: multiplication of uniforms (Knuth) for means below 10 and
/// Hoermann's (1993) transformed rejection with squeeze (PTRS) above, both exact.
public enum PoissonSampler {
    public static func sample(mean lambda: Double, _ g: inout SeededGenerator) -> Int {
        guard lambda > 0 else { return 0 }
        if lambda < 10 {
            let limit = exp(-lambda)
            var k = 0
            var p = g.nextUniformDouble()
            while p > limit {
                k += 1
                p *= g.nextUniformDouble()
            }
            return k
        }
        let slam = lambda.squareRoot(), logLam = log(lambda)
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let invAlpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = g.nextUniformDouble() - 0.5
            let v = g.nextUniformDouble()
            let us = 0.5 - abs(u)
            let k = floor((2 * a / us + b) * u + lambda + 0.43)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invAlpha) - log(a / (us * us) + b) <= -lambda + k * logLam - lgamma(k + 1) {
                return Int(k)
            }
        }
    }
}

/// The noise model. The noiseless image `I = S + L` (lensed source `S` plus lens light `L`, both after the
/// PSF) is scaled so that `max I = 1`. Each pixel is then
/// `observed = Poisson(c * I) / c + N(0, sigma_bg^2)` with `c = countsPerUnit` and
/// `sigma_bg = max(S) / SNR`: the SNR is the peak signal-to-noise ratio of the lensed source against the
/// background noise alone (Poisson noise adds on top). Mean `I`, variance `I / c + sigma_bg^2`.
public struct NoiseModel: Sendable {
    public var snr: Double
    public var countsPerUnit: Double

    public init(snr: Double, countsPerUnit: Double) {
        self.snr = snr
        self.countsPerUnit = countsPerUnit
    }

    /// The background standard deviation for a lensed-source peak `sourcePeak` (normalised units).
    public func backgroundSigma(sourcePeak: Double) -> Double { sourcePeak / snr }

    /// The variance of an observed pixel of noiseless value `intensity`: `max(I, 0) / c + sigma^2`.
    public func variance(intensity: Double, backgroundSigma sigma: Double) -> Double {
        max(intensity, 0) / countsPerUnit + sigma * sigma
    }

    /// Replaces each value `I` of `image` by `Poisson(c I)/c + N(0, sigma^2)`; negative `I` count as 0 counts.
    public func apply(to image: UnsafeMutableBufferPointer<Float>, backgroundSigma sigma: Double,
                      generator g: inout SeededGenerator) {
        let c = countsPerUnit, invC = 1 / countsPerUnit
        for i in image.indices {
            let expected = max(Double(image[i]), 0) * c
            let counts = Double(PoissonSampler.sample(mean: expected, &g))
            image[i] = Float(counts * invC + sigma * g.nextNormal())
        }
    }
}
