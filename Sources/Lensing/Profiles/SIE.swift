import Foundation

/// Singular isothermal ellipsoid in the Kormann, Schneider & Bartelmann (1994) / Keeton (2001) closed form,
/// with lenstronomy's `theta_E` convention (`theta_E` is the radius of the circle with mean convergence 1 only
/// for `q = 1`; in general it is the intermediate-axis Einstein radius).
///
/// In the frame `(x', y')` aligned with the major axis (angle `phi` from `e1`, `e2`, see `Ellipticity`):
/// `kappa = theta_E / (2 sqrt(q x'^2 + y'^2 / q))`; with `psi~ = sqrt(q^2 x'^2 + y'^2)` and `f = sqrt(1 - q^2)`,
/// `alpha_x' = theta_E sqrt(q) / f * atan(f x' / psi~)`, `alpha_y' = theta_E sqrt(q) / f * atanh(f y' / psi~)`,
/// and, the profile being isothermal, `psi = x' alpha_x' + y' alpha_y'`. For `f -> 0` the series
/// `atan(f u)/f = u (1 - f^2 u^2 / 3)` (and `atanh` with `+`) is used, so the limit `q -> 1` is exactly the SIS.
public struct SIE: MassProfile {
    public var thetaE: Double
    public var e1: Double
    public var e2: Double
    public var centerX: Double
    public var centerY: Double
    let q: Double
    let frame: AxisFrame
    let f: Double
    let prefactor: Double

    public init(thetaE: Double, e1: Double, e2: Double, centerX: Double = 0, centerY: Double = 0) {
        self.thetaE = thetaE
        self.e1 = e1
        self.e2 = e2
        self.centerX = centerX
        self.centerY = centerY
        let (q, phi) = Ellipticity.axisRatioAndAngle(e1: e1, e2: e2)
        self.q = q
        frame = AxisFrame(phi: phi)
        f = (1 - q * q).squareRoot()
        prefactor = thetaE * q.squareRoot()
    }

    /// Axis ratio `q = b/a` implied by `e1`, `e2`.
    public var axisRatio: Double { q }

    @inline(__always)
    func frameDeflection(_ u: Double, _ v: Double) -> (Double, Double) {
        let psiT = (q * q * u * u + v * v).squareRoot()
        guard psiT > 0 else { return (0, 0) }
        let a = u / psiT, b = v / psiT
        if f < 1e-4 {
            let f2 = f * f
            return (prefactor * a * (1 - f2 * a * a / 3), prefactor * b * (1 + f2 * b * b / 3))
        }
        return (prefactor / f * atan(f * a), prefactor / f * atanh(f * b))
    }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        let (u, v) = frame.toFrame(x - centerX, y - centerY)
        let (au, av) = frameDeflection(u, v)
        return frame.fromFrame(au, av)
    }

    public func convergence(x: Double, y: Double) -> Double {
        let (u, v) = frame.toFrame(x - centerX, y - centerY)
        return thetaE / (2 * max((q * u * u + v * v / q).squareRoot(), 1e-15))
    }

    public func potential(x: Double, y: Double) -> Double {
        let (u, v) = frame.toFrame(x - centerX, y - centerY)
        let (au, av) = frameDeflection(u, v)
        return u * au + v * av
    }
}
