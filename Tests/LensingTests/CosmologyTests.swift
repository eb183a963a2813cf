import Foundation
import Testing
@testable import Lensing

@Suite struct CosmologyTests {
    @Test func einsteinDeSitterAndDeSitterLimitsAreExact() {
        let c = FlatLambdaCDM.speedOfLight
        let eds = FlatLambdaCDM(H0: 70, omegaM: 1)
        let ds = FlatLambdaCDM(H0: 70, omegaM: 0)
        for z in [0.3, 1.0, 2.7] {
            // Omega_m = 1: D_C = 2 c/H0 (1 - 1/sqrt(1+z)); Omega_m = 0: D_C = c z / H0.
            #expect(abs(eds.comovingDistance(z) / (2 * c / 70 * (1 - 1 / (1 + z).squareRoot())) - 1) < 1e-12)
            #expect(abs(ds.comovingDistance(z) / (c * z / 70) - 1) < 1e-12)
        }
    }

    @Test func fiducialDistancesMatchAstropy() {
        // astropy.cosmology.FlatLambdaCDM(H0=70, Om0=0.3, Tcmb0=0): D_C(1) = 3303.83 Mpc, D_A(0.5) = 1259.08 Mpc.
        let cosmo = FlatLambdaCDM.fiducial
        #expect(abs(cosmo.comovingDistance(1.0) - 3303.83) < 0.05)
        #expect(abs(cosmo.angularDiameterDistance(0.5) - 1259.08) < 0.05)
        let dls = cosmo.angularDiameterDistance(from: 0.5, to: 1.0)
        #expect(abs(dls - (cosmo.comovingDistance(1) - cosmo.comovingDistance(0.5)) / 2) < 1e-9)
    }

    @Test func einsteinRadiusScalesWithSquareRootOfMass() {
        let cosmo = FlatLambdaCDM.fiducial
        let one = cosmo.einsteinRadius(mass: 1e12, lensRedshift: 0.5, sourceRedshift: 1.0)
        // 4 G M/c^2 D_ls/(D_l D_s) for 1e12 M_sun at (0.5, 1.0): about 1.65 arcsec.
        #expect(one > 1.6 && one < 1.7)
        let four = cosmo.einsteinRadius(mass: 4e12, lensRedshift: 0.5, sourceRedshift: 1.0)
        #expect(abs(four / one - 2) < 1e-12)
        let mass = cosmo.einsteinMass(thetaE: 1.2, lensRedshift: 0.5, sourceRedshift: 1.0)
        #expect(abs(cosmo.einsteinRadius(mass: mass, lensRedshift: 0.5, sourceRedshift: 1.0) - 1.2) < 1e-12)
    }

    @Test func criticalDensityToday() {
        // rho_crit,0 = 2.775e11 h^2 M_sun / Mpc^3 = 1.3598e11 for h = 0.7.
        #expect(abs(FlatLambdaCDM.fiducial.criticalDensity(0) / 1.3598e11 - 1) < 1e-3)
    }
}
