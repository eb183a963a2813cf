import Foundation

/// A point mass: `alpha = theta_E^2 (x, y) / r^2`, `psi = theta_E^2 ln r`, `kappa = 0` away from the centre.
///
/// `theta_E` is the Einstein radius of the mass (see `FlatLambdaCDM.einsteinRadius(mass:lensRedshift:sourceRedshift:)`).
/// The convergence is a delta function at the centre; it is reported as 0 everywhere.
public struct PointMass: MassProfile {
    public var thetaE: Double
    public var centerX: Double
    public var centerY: Double

    public init(thetaE: Double, centerX: Double = 0, centerY: Double = 0) {
        self.thetaE = thetaE
        self.centerX = centerX
        self.centerY = centerY
    }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        let dx = x - centerX, dy = y - centerY
        let r2 = dx * dx + dy * dy
        guard r2 > 0 else { return .zero }
        return SIMD2(dx, dy) * (thetaE * thetaE / r2)
    }

    public func convergence(x: Double, y: Double) -> Double { 0 }

    public func potential(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        return thetaE * thetaE * 0.5 * log(max(dx * dx + dy * dy, 1e-300))
    }
}
