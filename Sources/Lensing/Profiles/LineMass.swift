import Foundation

/// A uniform line-mass segment (a cosmic-string / superfluid-vortex-like filament) of total Einstein radius
/// `theta_E` (the Einstein radius of a point of the same total mass), length `length` and orientation `angle`
/// (radians from the x axis), centred at (`center_x`, `center_y`).
///
/// With `xi` along the segment, `eta` across it and line density `lambda = theta_E^2 / L`, integrating the
/// point-mass deflection along the segment gives
/// `alpha_xi = (lambda / 2) ln(((xi + L/2)^2 + eta^2) / ((xi - L/2)^2 + eta^2))` and
/// `alpha_eta = lambda (atan2(eta, xi - L/2) - atan2(eta, xi + L/2))`; the angle difference is evaluated as
/// one `atan2(eta L, xi^2 + eta^2 - L^2/4)`. The potential is the integral of `lambda ln r` along the segment,
/// `psi = lambda [F(xi + L/2) - F(xi - L/2)]` with `F(s) = (s ln(s^2 + eta^2))/2 - s + eta atan(s/eta)`.
/// The convergence is a line delta function; it is reported as 0 off the segment.
public struct LineMass: MassProfile {
    public var thetaE: Double
    public var length: Double
    public var angle: Double
    public var centerX: Double
    public var centerY: Double
    let frame: AxisFrame
    let lambda: Double

    public init(thetaE: Double, length: Double, angle: Double, centerX: Double = 0, centerY: Double = 0) {
        precondition(length > 0, "line mass length must be positive, got \(length)")
        self.thetaE = thetaE
        self.length = length
        self.angle = angle
        self.centerX = centerX
        self.centerY = centerY
        frame = AxisFrame(phi: angle)
        lambda = thetaE * thetaE / length
    }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        let (xi, eta) = frame.toFrame(x - centerX, y - centerY)
        let h = 0.5 * length
        let eta2 = eta * eta
        let plus = (xi + h) * (xi + h) + eta2
        let minus = (xi - h) * (xi - h) + eta2
        guard plus > 0, minus > 0 else { return .zero }
        let aXi = 0.5 * lambda * log(plus / minus)
        let aEta = lambda * atan2(eta * length, xi * xi + eta2 - h * h)
        return frame.fromFrame(aXi, aEta)
    }

    public func convergence(x: Double, y: Double) -> Double { 0 }

    public func potential(x: Double, y: Double) -> Double {
        let (xi, eta) = frame.toFrame(x - centerX, y - centerY)
        let h = 0.5 * length
        func antiderivative(_ s: Double) -> Double {
            let r2 = s * s + eta * eta
            let logTerm = r2 > 0 ? 0.5 * s * log(r2) : 0
            let atanTerm = eta != 0 ? eta * atan(s / eta) : 0
            return logTerm - s + atanTerm
        }
        return lambda * (antiderivative(xi + h) - antiderivative(xi - h))
    }
}
