import Foundation
import Core

/// How CDM subhalos are drawn: a Poisson number of halos with masses from `dN/dm ~ m^-slope` on
/// `[minimumMass, maximumMass]` (inverse-CDF sampling), positions uniform in area on an annulus around the
/// lens centre, each a truncated NFW (Baltz, Marshall & Oguri 2009) or a point mass of the same total mass.
///
/// TNFW sizes: `r200 = (3 m / (800 pi rho_crit(z_l)))^(1/3)`, concentration
/// `c200 = concentrationAt1e8 * (m / 1e8)^(-0.1)`, `Rs = r200 / c200`; tidal truncation at
/// `r_t = R (m / (3 M_host(R)))^(1/3)` (Jacobi radius at projected distance `R`, host 3-D mass of an isothermal
/// sphere `M_host(R) = (2/pi) M_E R / theta_E`). The mass `m` is the halo's total (truncated) mass.
public struct SubhaloPopulation: Sendable, Equatable {
    public enum Profile: String, Sendable { case tnfw, pointMass }

    public var meanCount: Double = 25
    public var minimumMass: Double = 1e6
    public var maximumMass: Double = 1e10
    public var slope: Double = 1.9
    public var innerRadius: Double = 0.25
    public var outerRadius: Double = 2.0
    public var concentrationAt1e8: Double = 15
    /// Multiplies every drawn mass (1 = the physical mass function); the knob for substructure strength.
    public var massScale: Double = 1
    public var profile: Profile = .tnfw

    public init() {}

    /// One mass from the truncated power law.
    public func sampleMass(_ generator: inout SeededGenerator) -> Double {
        let e = 1 - slope
        let lo = pow(minimumMass, e), hi = pow(maximumMass, e)
        return pow(lo + generator.nextUniformDouble() * (hi - lo), 1 / e)
    }

    /// Draws the subhalos of one image.
    /// - Parameters:
    ///   - lensCenter: position of the main lens (arcsec).
    ///   - hostThetaE: the main lens Einstein radius (arcsec) and `hostEinsteinMass` the mass inside it.
    ///   - unitThetaE: the Einstein radius of one solar mass at these redshifts (arcsec).
    func sample(lensCenter: SIMD2<Double>, hostThetaE: Double, hostEinsteinMass: Double, unitThetaE: Double,
                cosmology: FlatLambdaCDM, lensRedshift: Double, generator: inout SeededGenerator) -> [Subhalo] {
        let count = PoissonSampler.sample(mean: meanCount, &generator)
        let rhoCrit = cosmology.criticalDensity(lensRedshift)
        var halos: [Subhalo] = []
        halos.reserveCapacity(count)
        for _ in 0..<count {
            let mass = sampleMass(&generator) * massScale
            let r = (innerRadius * innerRadius + generator.nextUniformDouble()
                * (outerRadius * outerRadius - innerRadius * innerRadius)).squareRoot()
            let phi = 2 * Double.pi * generator.nextUniformDouble()
            let x = lensCenter.x + r * cos(phi), y = lensCenter.y + r * sin(phi)
            let thetaE = unitThetaE * mass.squareRoot()
            guard profile == .tnfw else {
                halos.append(Subhalo(mass: mass, x: x, y: y, thetaE: thetaE))
                continue
            }
            let r200 = pow(3 * mass / (800 * Double.pi * rhoCrit), 1.0 / 3)
            let c200 = concentrationAt1e8 * pow(mass / 1e8, -0.1)
            let rs = cosmology.angle(ofLength: r200 / c200, atRedshift: lensRedshift)
            let hostMass = 2 / Double.pi * hostEinsteinMass * r / hostThetaE
            let rt = r * pow(mass / (3 * hostMass), 1.0 / 3)
            halos.append(Subhalo(mass: mass, x: x, y: y, thetaE: thetaE, Rs: rs, rTrunc: rt))
        }
        return halos
    }
}
