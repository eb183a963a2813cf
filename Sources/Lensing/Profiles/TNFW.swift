import Core
import Foundation

/// Truncated Navarro-Frenk-White halo of Baltz, Marshall & Oguri (2009, JCAP 01, 015), parametrised as in
/// lenstronomy's `TNFW`: scale radius `Rs`, deflection `alpha_Rs` of the untruncated NFW at `Rs`, truncation
/// radius `r_trunc` (all in arcseconds), centre (`center_x`, `center_y`).
///
/// 3-D density `rho(r) = rho0 / ((r/Rs)(1 + r/Rs)^2) * r_t^2 / (r^2 + r_t^2)` with
/// `rho0 = alpha_Rs / (4 Rs^2 (1 + ln(1/2)))`. With `x = R/Rs`, `tau = r_trunc/Rs`:
/// `kappa = 2 rho0 Rs F_t(x, tau)`, `alpha = 4 rho0 Rs g(x, tau) / x^2 * (dx, dy)`, `psi = 2 rho0 Rs^3 h(x, tau)`
/// (BMO09 eqs. A.1-A.3). As in lenstronomy, `x` is floored at 1e-3 so the centre is finite.
/// The total projected mass is finite: far away the halo deflects like a point mass with
/// `theta_E^2 = 4 rho0 Rs^3 g(inf, tau)`, `g(inf, tau) = tau^2/(tau^2+1)^2 ((tau^2-1) ln tau + pi tau - (tau^2+1))`.
public struct TNFW: MassProfile {
    public var Rs: Double
    public var alphaRs: Double
    public var rTrunc: Double
    public var centerX: Double
    public var centerY: Double
    let rho0: Double
    let tau: Double
    /// `ln tau`, hoisted out of the per-ray deflection.
    let logTau: Double

    static let minimumX = 1e-3

    public init(Rs: Double, alphaRs: Double, rTrunc: Double, centerX: Double = 0, centerY: Double = 0) {
        precondition(Rs > 0 && rTrunc > 0, "TNFW needs positive Rs and r_trunc, got \(Rs), \(rTrunc)")
        self.Rs = Rs
        self.alphaRs = alphaRs
        self.rTrunc = rTrunc
        self.centerX = centerX
        self.centerY = centerY
        rho0 = alphaRs / (4 * Rs * Rs * (1 + log(0.5)))
        tau = rTrunc / Rs
        logTau = log(tau)
    }

    /// A TNFW whose total (finite) mass equals that of a point mass with Einstein radius `pointMassThetaE`.
    public init(pointMassThetaE: Double, Rs: Double, rTrunc: Double, centerX: Double = 0, centerY: Double = 0) {
        let tau = rTrunc / Rs
        let rho0 = pointMassThetaE * pointMassThetaE / (4 * Rs * Rs * Rs * TNFW.gInfinity(tau))
        self.init(Rs: Rs, alphaRs: rho0 * 4 * Rs * Rs * (1 + log(0.5)), rTrunc: rTrunc, centerX: centerX, centerY: centerY)
    }

    /// The Einstein radius of a point of the same total mass: `sqrt(4 rho0 Rs^3 g(inf, tau))`.
    public var pointMassThetaE: Double { (4 * rho0 * Rs * Rs * Rs * TNFW.gInfinity(tau)).squareRoot() }

    /// `lim_{x -> inf} g(x, tau)`.
    public static func gInfinity(_ tau: Double) -> Double {
        let t2 = tau * tau
        return t2 / ((t2 + 1) * (t2 + 1)) * ((t2 - 1) * log(tau) + Double.pi * tau - (t2 + 1))
    }

    /// The NFW projection function: `atanh(sqrt(1-x^2))/sqrt(1-x^2)` for `x < 1`,
    /// `atan(sqrt(x^2-1))/sqrt(x^2-1)` for `x > 1`, 1 at `x = 1`.
    static func nfwF(_ x: Double) -> Double {
        if x < 1 {
            let s = (1 - x * x).squareRoot()
            return s > 0 ? atanh(s) / s : 1
        } else if x > 1 {
            let s = (x * x - 1).squareRoot()
            return atan(s) / s
        }
        return 1
    }

    /// `ln(x / (tau + sqrt(tau^2 + x^2)))`.
    static func logTerm(_ x: Double, _ tau: Double) -> Double {
        log(x / (tau + (tau * tau + x * x).squareRoot()))
    }

    /// BMO09's `g(x, tau)`: the projected mass inside `x` in units of `4 pi rho0 Rs^3`.
    static func g(_ x: Double, _ tau: Double) -> Double { g(x, tau, logTau: log(tau)) }

    /// `g(x, tau)` with `ln tau` given (the same bits as `g(x, tau)`).
    @inline(__always)
    static func g(_ x: Double, _ tau: Double, logTau: Double) -> Double {
        let t2 = tau * tau
        let root = (t2 + x * x).squareRoot()
        return t2 / ((t2 + 1) * (t2 + 1)) * (
            (t2 + 1 + 2 * (x * x - 1)) * nfwF(x) + tau * Double.pi + (t2 - 1) * logTau
                + root * (-Double.pi + logTerm(x, tau) * (t2 - 1) / tau))
    }

    /// BMO09's projected density function `F_t(x, tau)` (`kappa = 2 rho0 Rs F_t`).
    static func projectedDensity(_ x: Double, _ tau: Double) -> Double {
        let t2 = tau * tau
        let fx = nfwF(x)
        let a = t2 / ((t2 + 1) * (t2 + 1))
        let d = x * x - 1
        let b = abs(d) < 1e-6 ? (t2 + 1) / 3 : (t2 + 1) * (1 - fx) / d
        let root = (t2 + x * x).squareRoot()
        return a * (b + 2 * fx - Double.pi / root + (t2 - 1) / (tau * root) * logTerm(x, tau))
    }

    /// BMO09's potential function `h(x, tau)` (`psi = 2 rho0 Rs^3 h`).
    static func potentialFunction(_ x: Double, _ tau: Double) -> Double {
        let u = x * x, t2 = tau * tau
        let root = (t2 + u).squareRoot()
        let lx = logTerm(x, tau)
        let cosTerm: Double = x < 1 ? -pow(acosh(1 / x), 2) : pow(acos(1 / x), 2)
        let pi = Double.pi
        let body = 2 * t2 * pi * (tau - root + tau * log(tau + root))
            + 2 * (t2 - 1) * tau * root * lx
            + t2 * (t2 - 1) * lx * lx
            + 4 * t2 * (u - 1) * nfwF(x)
            + t2 * (t2 - 1) * cosTerm
            + t2 * ((t2 - 1) * log(tau) - t2 - 1) * log(u)
            - t2 * ((t2 - 1) * log(tau) * log(4 * tau) + 2 * log(0.5 * tau) - 2 * tau * (tau - pi) * log(2 * tau))
        return body / ((t2 + 1) * (t2 + 1))
    }

    /// The radial deflection factor `a(R)` with `alpha = a(R) * (dx, dy)`, for `R^2 = dx^2 + dy^2`.
    public func deflectionFactor(radiusSquared r2: Double) -> Double {
        let x = max(r2.squareRoot() / Rs, TNFW.minimumX)
        return 4 * rho0 * Rs * TNFW.g(x, tau, logTau: logTau) / (x * x)
    }

    /// `deflectionFactor(radiusSquared:)` on `SIMDMath.width` lanes (`SIMDMath` log and atan; agrees to a few ulps).
    public func deflectionFactor(radiusSquared r2: SIMDMath.Vector) -> SIMDMath.Vector {
        typealias V = SIMDMath.Vector
        var x = r2.squareRoot() / Rs
        x.replace(with: TNFW.minimumX, where: x .< TNFW.minimumX)
        let x2 = x * x, u = x2 - 1
        var magnitude = u
        magnitude.replace(with: -u, where: u .< 0)
        // F(x): atanh(s)/s with s = sqrt(1 - x^2) below 1, atan(s)/s with s = sqrt(x^2 - 1) above; both equal
        // sum_k (-u)^k / (2k + 1) near x = 1, used where |u| < 0.04 (12 terms: below 1e-17).
        var s = magnitude
        s.replace(with: 1e-200, where: s .< 1e-200)
        s = s.squareRoot()
        let below = u .< 0
        var f: V
        if !any(below) {
            f = SIMDMath.atan(s) / s
        } else {
            var gap = 1 - s
            gap.replace(with: 1e-200, where: gap .< 1e-200)
            f = V(repeating: 0.5) * SIMDMath.log((1 + s) / gap) / s
            if any(.!below) { f.replace(with: SIMDMath.atan(s) / s, where: .!below) }
        }
        let nearOne = magnitude .< 0.04
        if any(nearOne) {
            var series = V(repeating: 1.0 / 23)
            for k in stride(from: 10, through: 0, by: -1) { series = series * -u + 1 / Double(2 * k + 1) }
            f.replace(with: series, where: nearOne)
        }
        let t2 = tau * tau
        let root = (t2 + x2).squareRoot()
        let logTerm = SIMDMath.log(x / (tau + root))
        let bracket: V = (t2 + 1 + 2 * u) * f + (tau * Double.pi + (t2 - 1) * logTau)
            + root * (logTerm * ((t2 - 1) / tau) - Double.pi)
        return (4 * rho0 * Rs * t2 / ((t2 + 1) * (t2 + 1))) * bracket / x2
    }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        let dx = x - centerX, dy = y - centerY
        return SIMD2(dx, dy) * deflectionFactor(radiusSquared: dx * dx + dy * dy)
    }

    public func convergence(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        let r = max((dx * dx + dy * dy).squareRoot() / Rs, TNFW.minimumX)
        return 2 * rho0 * Rs * TNFW.projectedDensity(r, tau)
    }

    public func potential(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        let r = max((dx * dx + dy * dy).squareRoot() / Rs, TNFW.minimumX)
        return 2 * rho0 * Rs * Rs * Rs * TNFW.potentialFunction(r, tau)
    }
}
