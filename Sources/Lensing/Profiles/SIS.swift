import Foundation

/// Singular isothermal sphere: `kappa = theta_E / (2 r)`, `alpha = theta_E (x, y) / r`, `psi = theta_E r`.
///
/// Parameters use lenstronomy's names (`theta_E`, `center_x`, `center_y`); at the exact centre the
/// deflection is defined as zero.
public struct SIS: MassProfile {
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
        let r = (dx * dx + dy * dy).squareRoot()
        guard r > 0 else { return .zero }
        return SIMD2(dx, dy) * (thetaE / r)
    }

    public func convergence(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        return thetaE / (2 * max((dx * dx + dy * dy).squareRoot(), 1e-15))
    }

    public func potential(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        return thetaE * (dx * dx + dy * dy).squareRoot()
    }
}
