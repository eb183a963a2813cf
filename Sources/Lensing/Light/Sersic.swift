import Core
import Foundation

/// Elliptical Sersic surface brightness (Sersic 1963), lenstronomy `SERSIC_ELLIPSE` convention:
/// `I(x, y) = amp * exp(-b_n ((R / R_sersic)^(1/n) - 1))` with the elliptical radius
/// `R = sqrt(q x'^2 + y'^2 / q)` in the frame of the major axis (`q`, `phi` from `e1`, `e2`), so `amp` is the
/// intensity at the half-light ellipse. `b_n` is exact: the root of `P(2n, b_n) = 1/2` (half the total light
/// inside `R_sersic`), solved by Newton's method on the regularized incomplete gamma function.
public struct SersicProfile: Sendable {
    public var amp: Double
    public var rSersic: Double
    public var nSersic: Double
    public var e1: Double
    public var e2: Double
    public var centerX: Double
    public var centerY: Double
    /// The exact `b_n` for `nSersic`.
    public let bn: Double
    let q: Double
    let frame: AxisFrame
    let inverseN: Double
    let inverseRadius: Double

    public init(amp: Double, rSersic: Double, nSersic: Double, e1: Double = 0, e2: Double = 0,
                centerX: Double = 0, centerY: Double = 0) {
        precondition(rSersic > 0 && nSersic > 0, "Sersic needs positive R_sersic and n_sersic, got \(rSersic), \(nSersic)")
        self.amp = amp
        self.rSersic = rSersic
        self.nSersic = nSersic
        self.e1 = e1
        self.e2 = e2
        self.centerX = centerX
        self.centerY = centerY
        bn = SersicProfile.exactBn(nSersic)
        let (q, phi) = Ellipticity.axisRatioAndAngle(e1: e1, e2: e2)
        self.q = q
        frame = AxisFrame(phi: phi)
        inverseN = 1 / nSersic
        inverseRadius = 1 / rSersic
    }

    /// Surface brightness at `(x, y)`.
    public func intensity(x: Double, y: Double) -> Double {
        let (u, v) = frame.toFrame(x - centerX, y - centerY)
        let r2 = (q * u * u + v * v / q) * inverseRadius * inverseRadius
        guard r2 > 0 else { return amp * exp(bn) }
        return amp * exp(bn * (1 - exp(0.5 * inverseN * log(r2))))
    }

    /// Surface brightness at squared scaled elliptical radius `(R / R_sersic)^2` (see `scaledRadiusSquared`).
    public func intensity(scaledRadiusSquared r2: Double) -> Double {
        guard r2 > 0 else { return amp * exp(bn) }
        return amp * exp(bn * (1 - exp(0.5 * inverseN * log(r2))))
    }

    /// Surface brightness at `SIMDMath.width` points, zero where `(R / R_sersic)^2 >= cutoff` (`SIMDMath` exp and log; a few ulps
    /// from the scalar `intensity`).
    public func intensity(x: SIMDMath.Vector, y: SIMDMath.Vector, cutoff: Double) -> SIMDMath.Vector {
        let dx = x - centerX, dy = y - centerY
        let u = frame.cosPhi * dx + frame.sinPhi * dy, v = frame.cosPhi * dy - frame.sinPhi * dx
        let r2 = (q * u * u + v * v / q) * (inverseRadius * inverseRadius)
        var positive = r2
        positive.replace(with: 1e-300, where: r2 .< 1e-300)
        let root = SIMDMath.exp(0.5 * inverseN * SIMDMath.log(positive))
        var value = amp * SIMDMath.exp(bn * (1 - root))
        value.replace(with: 0, where: r2 .>= cutoff)
        return value
    }

    /// The squared elliptical radius `(R / R_sersic)^2` of `(x, y)`.
    public func scaledRadiusSquared(x: Double, y: Double) -> Double {
        let (u, v) = frame.toFrame(x - centerX, y - centerY)
        return (q * u * u + v * v / q) * inverseRadius * inverseRadius
    }

    /// The exact `b_n` solving `P(2n, b) = 1/2`; Newton iterations from Ciotti & Bertin's (1999) asymptotic
    /// start `2n - 1/3 + 4/(405 n)`, converged to 1e-13 relative.
    public static func exactBn(_ n: Double) -> Double {
        let a = 2 * n
        var b = max(2 * n - 1.0 / 3 + 4 / (405 * n), 1e-3)
        for _ in 0..<100 {
            let p = IncompleteGamma.regularizedLower(a, b) - 0.5
            let density = exp((a - 1) * log(b) - b - lgamma(a))
            let step = p / density
            var next = b - step
            if next <= 0 { next = b / 2 }
            if abs(next - b) <= 1e-13 * b { return next }
            b = next
        }
        return b
    }
}
