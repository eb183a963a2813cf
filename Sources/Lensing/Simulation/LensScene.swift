import Foundation

/// One subhalo in the lens plane. `thetaE` is the Einstein radius of a point of its total mass; when
/// `Rs` and `rTrunc` are positive it is a truncated NFW of that total mass (`TNFW(pointMassThetaE:)`),
/// otherwise a point mass.
public struct Subhalo: Sendable, Equatable {
    public var mass: Double
    public var x: Double
    public var y: Double
    public var thetaE: Double
    public var Rs: Double
    public var rTrunc: Double

    public init(mass: Double, x: Double, y: Double, thetaE: Double, Rs: Double = 0, rTrunc: Double = 0) {
        self.mass = mass
        self.x = x
        self.y = y
        self.thetaE = thetaE
        self.Rs = Rs
        self.rTrunc = rTrunc
    }

    /// Whether the subhalo is rendered as a truncated NFW (else as a point mass).
    public var isTNFW: Bool { Rs > 0 && rTrunc > 0 }
}

/// Every parameter of one simulated image, drawn from a domain's priors. Angles in arcsec, masses in
/// solar masses. Rendering a scene is deterministic given the scene and the noise generator.
public struct LensScene: Sendable {
    public var label: SubstructureClass
    public var lensRedshift: Double
    public var sourceRedshift: Double
    /// Main deflector (an SIE; `e1 = e2 = 0` is the SIS).
    public var mainLens: SIE
    public var shear: ExternalShear
    public var subhalos: [Subhalo]
    public var vortex: LineMass?
    /// The vortex mass in solar masses (0 without a vortex).
    public var vortexMass: Double
    public var source: SersicProfile
    public var lensLight: SersicProfile?
    /// Gaussian PSF standard deviation, arcsec.
    public var psfSigma: Double
    /// Peak signal-to-noise ratio of the lensed source (see `NoiseModel`).
    public var snr: Double
    /// Expected counts per unit of normalised intensity (sets the Poisson noise, see `NoiseModel`).
    public var countsPerUnit: Double
    /// Detector gain: the noisy image (peak about 1) is multiplied by it.
    public var gain: Double = 1
    /// Sky level added to every pixel after the gain, in units of the normalised peak.
    public var skyLevel: Double = 0
}
