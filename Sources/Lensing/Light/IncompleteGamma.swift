import Foundation

/// The regularized lower incomplete gamma function `P(a, x) = gamma(a, x) / Gamma(a)` for `a > 0`, `x >= 0`.
///
/// Evaluated with the power series `P = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k))` for `x < a + 1`
/// and with the Legendre continued fraction for `Q = 1 - P` (modified Lentz evaluation) otherwise
/// (Abramowitz & Stegun 6.5.29 and 6.5.31); both converge to double precision in well under 200 terms for the
/// arguments Sersic indices need.
public enum IncompleteGamma {
    public static func regularizedLower(_ a: Double, _ x: Double) -> Double {
        precondition(a > 0 && x >= 0, "P(a, x) needs a > 0 and x >= 0, got a = \(a), x = \(x)")
        if x == 0 { return 0 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = 1 / a, denominator = a
            for _ in 0..<500 {
                denominator += 1
                term *= x / denominator
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return sum * exp(logPrefactor)
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<500 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return 1 - exp(logPrefactor) * h
    }
}
