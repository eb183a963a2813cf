import Foundation

/// A thin-lens mass distribution on the sky, in angular units (arcseconds).
///
/// Conventions follow lenstronomy: the lens equation is `beta = theta - alpha(theta)`, `kappa` is the
/// convergence (surface density over the critical density) and `psi` the lensing potential, so that
/// `alpha = grad psi` and `laplacian psi = 2 kappa`. All arithmetic is `Double`.
public protocol MassProfile: Sendable {
    /// The deflection `(alpha_x, alpha_y)` in arcseconds at the image-plane position `(x, y)`.
    func deflection(x: Double, y: Double) -> SIMD2<Double>
    /// The dimensionless convergence at `(x, y)`.
    func convergence(x: Double, y: Double) -> Double
    /// The lensing potential in arcsec^2 at `(x, y)` (defined up to a constant).
    func potential(x: Double, y: Double) -> Double
}

/// The four lensing quantities at one point, as printed by `deeplense lens-eval`.
public struct LensQuantities: Equatable, Sendable {
    public var alphaX: Double
    public var alphaY: Double
    public var kappa: Double
    public var psi: Double

    public init(alphaX: Double, alphaY: Double, kappa: Double, psi: Double) {
        self.alphaX = alphaX
        self.alphaY = alphaY
        self.kappa = kappa
        self.psi = psi
    }
}

extension MassProfile {
    /// Deflection, convergence and potential at `(x, y)`.
    public func evaluate(x: Double, y: Double) -> LensQuantities {
        let a = deflection(x: x, y: y)
        return LensQuantities(alphaX: a.x, alphaY: a.y, kappa: convergence(x: x, y: y), psi: potential(x: x, y: y))
    }

    /// The source-plane position `beta = theta - alpha(theta)` of the image-plane point `(x, y)`.
    public func sourcePosition(x: Double, y: Double) -> SIMD2<Double> {
        SIMD2(x, y) - deflection(x: x, y: y)
    }
}

/// Several mass profiles in one lens plane: deflections, convergences and potentials add.
public struct CompositeLens: MassProfile {
    public var components: [any MassProfile]

    public init(_ components: [any MassProfile]) { self.components = components }

    public func deflection(x: Double, y: Double) -> SIMD2<Double> {
        components.reduce(SIMD2<Double>.zero) { $0 + $1.deflection(x: x, y: y) }
    }

    public func convergence(x: Double, y: Double) -> Double {
        components.reduce(0) { $0 + $1.convergence(x: x, y: y) }
    }

    public func potential(x: Double, y: Double) -> Double {
        components.reduce(0) { $0 + $1.potential(x: x, y: y) }
    }
}
