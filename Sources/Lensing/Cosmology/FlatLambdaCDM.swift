import Foundation

/// A flat Lambda-CDM cosmology (radiation neglected) giving angular-diameter distances and Einstein radii.
///
/// `E(z) = sqrt(Om (1+z)^3 + 1 - Om)`, comoving distance `D_C(z) = (c/H0) int_0^z dz'/E(z')` (Gauss-Legendre,
/// 32 nodes per unit redshift: 1e-12 relative), `D_A(z) = D_C/(1+z)` and, because space is flat,
/// `D_A(z1, z2) = (D_C(z2) - D_C(z1))/(1+z2)` (Hogg 1999, astro-ph/9905116). Distances in Mpc.
public struct FlatLambdaCDM: Sendable {
    /// Hubble constant in km/s/Mpc.
    public var H0: Double
    /// Matter density today.
    public var omegaM: Double

    /// Speed of light in km/s.
    public static let speedOfLight = 299_792.458
    /// `G / c^2` in Mpc per solar mass (`G M_sun / c^2` = 1476.625 m).
    public static let gravitationalRadiusPerSolarMass = 1476.625_061_404_649 / 3.085_677_581_491_367e22
    /// Arcseconds per radian.
    public static let arcsecondsPerRadian = 180.0 / Double.pi * 3600

    /// The fiducial cosmology used by the simulator: H0 = 70, Om = 0.3.
    public static let fiducial = FlatLambdaCDM(H0: 70, omegaM: 0.3)

    public init(H0: Double = 70, omegaM: Double = 0.3) {
        self.H0 = H0
        self.omegaM = omegaM
    }

    /// The dimensionless Hubble rate `E(z) = H(z)/H0`.
    public func E(_ z: Double) -> Double { (omegaM * pow(1 + z, 3) + 1 - omegaM).squareRoot() }

    /// Line-of-sight comoving distance to redshift `z`, Mpc.
    public func comovingDistance(_ z: Double) -> Double {
        comovingDistance(from: 0, to: z)
    }

    /// Comoving distance between `z1` and `z2`, Mpc.
    public func comovingDistance(from z1: Double, to z2: Double) -> Double {
        guard z2 != z1 else { return 0 }
        let panels = max(1, Int((abs(z2 - z1)).rounded(.up)))
        let width = (z2 - z1) / Double(panels)
        let rule = GaussLegendre.rule32
        var total = 0.0
        for p in 0..<panels {
            let mid = z1 + (Double(p) + 0.5) * width
            for (node, weight) in zip(rule.nodes, rule.weights) {
                total += weight / E(mid + 0.5 * width * node)
            }
        }
        return FlatLambdaCDM.speedOfLight / H0 * total * 0.5 * width
    }

    /// Angular-diameter distance to `z`, Mpc.
    public func angularDiameterDistance(_ z: Double) -> Double { comovingDistance(z) / (1 + z) }

    /// Angular-diameter distance from `z1` to `z2 > z1`, Mpc.
    public func angularDiameterDistance(from z1: Double, to z2: Double) -> Double {
        comovingDistance(from: z1, to: z2) / (1 + z2)
    }

    /// The Einstein radius in arcseconds of a point mass (or of the mass enclosed by the Einstein ring of any
    /// circular lens): `theta_E = sqrt(4 G M / c^2 * D_ls / (D_l D_s))`, `mass` in solar masses.
    public func einsteinRadius(mass: Double, lensRedshift zl: Double, sourceRedshift zs: Double) -> Double {
        precondition(zs > zl && zl > 0, "need 0 < z_lens < z_source, got \(zl), \(zs)")
        let dl = angularDiameterDistance(zl), ds = angularDiameterDistance(zs)
        let dls = angularDiameterDistance(from: zl, to: zs)
        let radians = (4 * FlatLambdaCDM.gravitationalRadiusPerSolarMass * mass * dls / (dl * ds)).squareRoot()
        return radians * FlatLambdaCDM.arcsecondsPerRadian
    }

    /// The mass (solar masses) whose Einstein radius is `thetaE` arcseconds: the inverse of `einsteinRadius`.
    public func einsteinMass(thetaE: Double, lensRedshift zl: Double, sourceRedshift zs: Double) -> Double {
        let unit = einsteinRadius(mass: 1, lensRedshift: zl, sourceRedshift: zs)
        return pow(thetaE / unit, 2)
    }

    /// The critical density of the universe at `z` in solar masses per Mpc^3: `3 H(z)^2 / (8 pi G)`.
    public func criticalDensity(_ z: Double) -> Double {
        let hPerSecond = H0 * E(z) / 3.085_677_581_491_367e19
        let gSI = 6.674_30e-11, msun = 1.988_409_87e30, mpc = 3.085_677_581_491_367e22
        return 3 * hPerSecond * hPerSecond / (8 * Double.pi * gSI) * pow(mpc, 3) / msun
    }

    /// Angular size in arcseconds of the proper length `megaparsecs` at redshift `z`.
    public func angle(ofLength megaparsecs: Double, atRedshift z: Double) -> Double {
        megaparsecs / angularDiameterDistance(z) * FlatLambdaCDM.arcsecondsPerRadian
    }
}
