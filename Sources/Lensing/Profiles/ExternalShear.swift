import Foundation

/// External shear: `psi = (gamma1 (x^2 - y^2) + 2 gamma2 x y) / 2`, `alpha = (g1 x + g2 y, g2 x - g1 y)`,
/// `kappa = 0`, with positions measured from the reference point (`ra_0`, `dec_0` in lenstronomy, here
/// `centerX`, `centerY`).
public struct ExternalShear: MassProfile {
    public var gamma1: Double
    public var gamma2: Double
    public var centerX: Double
    public var centerY: Double

    public init(gamma1: Double, gamma2: Double, centerX: Double = 0, centerY: Double = 0) {
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centerX = centerX
        self.centerY = centerY
    }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        let dx = x - centerX, dy = y - centerY
        return SIMD2(gamma1 * dx + gamma2 * dy, gamma2 * dx - gamma1 * dy)
    }

    public func convergence(x: Double, y: Double) -> Double { 0 }

    public func potential(x: Double, y: Double) -> Double {
        let dx = x - centerX, dy = y - centerY
        return 0.5 * (gamma1 * (dx * dx - dy * dy) + 2 * gamma2 * dx * dy)
    }
}
