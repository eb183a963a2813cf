import Core
import Foundation

/// One real basis filter: a Gaussian ring times a circular harmonic, `G_j(rho) cos(m phi)` or
/// `G_j(rho) sin(m phi)`, in polar coordinates about the kernel centre (`x` right, `y` up, in taps).
public struct BasisFunction: Hashable, Sendable {
    /// Ring index `j`; the ring radius is `j` taps.
    public let ring: Int
    /// Circular frequency `m >= 0`.
    public let frequency: Int
    /// Whether this is the `sin(m phi)` part (only for `m > 0`).
    public let isSine: Bool
}

/// The steerable filter basis of a `k x k` kernel (`k` odd): Gaussian rings times circular harmonics, as in
/// Weiler, Hamprecht & Storath, "Learning Steerable Filters for Rotation Equivariant CNNs", CVPR 2018, and
/// Weiler & Cesa, "General E(2)-Equivariant Steerable CNNs", NeurIPS 2019.
///
/// - Rings: radii `0, 1, ..., (k-1)/2` taps; profile `exp(-(rho - j)^2 / (2 sigma^2))` with `sigma = 0.6`, `0.4` on
///   the outermost ring; the centre ring is a delta (the centre tap), like e2cnn's.
/// - Band limit (documented rule): ring `j` carries frequencies `m <= mMax(j)` with `mMax(0) = 0`,
///   `mMax(j) = min(2j, 3)` on inner rings and `min(2j, 2)` on the outermost ring, whose narrower profile is cut
///   by the kernel square. This reproduces e2cnn's cutoffs (k=5: 0,2,2; k=7: 0,2,3,2), giving
///   `K = 6, 11, 18` functions for `k = 3, 5, 7` (1 for the centre, `2 mMax + 1` per ring).
/// - Window: every ring profile is multiplied by a raised cosine that is 1 up to radius `k/2 - 1` and 0 from
///   `k/2`, so no function is truncated by the square kernel (a truncated ring is anisotropic: measured 45-degree
///   errors were 5-10x larger without it).
/// - Pixel-area integration: each tap is the mean of the continuous function over an isotropic pixel footprint,
///   a Gaussian of width 0.4 px, computed by supersampling (`supersampling` points per pixel side), rather than
///   a point sample. An isotropic footprint commutes with rotations, so the rotated copies of a filter are exact
///   samples of one rotated continuous filter; a square footprint would not be (45 degrees turns the square).
/// - Lattice steering: the pixel-integrated samples of every harmonic are then corrected by the small
///   least-squares step of `LatticeSteering`, which removes the angular orders `m +- 4, ...` that the square
///   lattice adds to the filter's spectrum on the band of smooth inputs (the source of the 45-degree
///   equivariance error; quarter turns stay exact). `latticeSteering: false` gives the uncorrected samples.
/// - Normalisation: each continuous function has unit L2 norm in the plane (the centre delta is the unit tap),
///   so the footprint's low-pass attenuates high harmonics instead of being undone by a per-sample rescale.
///
/// Besides the real samples, the basis keeps the complex harmonic samples `B_j,m(tap)` (pixel means of
/// `G_j e^(i m phi)`), from which `SteerableExpansion` builds rotated and reflected copies exactly: rotating the
/// continuous filter by `theta` multiplies harmonic `m` by `e^(-i m theta)`.
public final class SteerableBasis: @unchecked Sendable {
    /// Kernel side `k` (odd).
    public let kernelSize: Int
    /// Sub-pixel samples per axis used for the pixel-area integration.
    public let supersampling: Int
    /// The `K` basis functions, ring-major then by frequency (cos before sin).
    public let functions: [BasisFunction]
    /// Complex samples of each function before taking the real part, normalised: `[K][k*k]` interleaved
    /// (re, im). For a cosine function the real filter is `Re(B)`, for a sine function `Re(-i B) = Im(B)`,
    /// where `B` is the sampled `G_j e^(i m phi)`; a rotation by `theta` multiplies `B` by `e^(-i m theta)`.
    public let harmonicSamples: [[Float]]

    /// Number of basis functions `K`.
    public var count: Int { functions.count }
    /// Taps per filter, `k * k`.
    public var tapCount: Int { kernelSize * kernelSize }

    /// The band-limit rule: the largest frequency on ring `ring` of `ringCount` rings (radii `0..<ringCount`).
    public static func maximumFrequency(ring: Int, ringCount: Int) -> Int {
        if ring == 0 { return 0 }
        return min(2 * ring, ring == ringCount - 1 ? 2 : 3)
    }

    /// Radial width of ring `ring` of `ringCount`.
    public static func ringWidth(ring: Int, ringCount: Int) -> Double { ring == ringCount - 1 && ring > 0 ? 0.4 : 0.6 }

    /// Width (px) of the isotropic Gaussian pixel footprint over which every tap integrates.
    public static let footprintWidth = 0.4

    /// The radial profile of ring `ring`: a Gaussian of width `ringWidth` about radius `ring`, times a raised
    /// cosine window that is 1 up to `k/2 - 1` and 0 from `k/2` on, so no function is cut by the kernel square.
    public static func profile(_ rho: Double, ring: Int, ringCount: Int, kernelSize: Int) -> Double {
        let sigma = ringWidth(ring: ring, ringCount: ringCount), d = rho - Double(ring)
        let edge = Double(kernelSize) / 2, start = edge - 1
        let window = rho >= edge ? 0 : (rho <= start ? 1 : 0.5 * (1 + Foundation.cos(Double.pi * (rho - start))))
        return Gaussian.profile(d, sigma: sigma) * window
    }

    /// Whether the samples were corrected by `LatticeSteering`.
    public let latticeSteering: Bool

    public init(kernelSize: Int, supersampling: Int = 8, latticeSteering: Bool = true) {
        precondition(kernelSize >= 1 && kernelSize % 2 == 1, "steerable kernels need an odd size, got \(kernelSize)")
        precondition(supersampling >= 1, "supersampling must be >= 1")
        self.kernelSize = kernelSize
        self.supersampling = supersampling
        self.latticeSteering = latticeSteering
        let steering = latticeSteering && kernelSize > 1 ? LatticeSteering(kernelSize: kernelSize) : nil
        let rings = (kernelSize - 1) / 2 + 1, c = Double(kernelSize - 1) / 2, taps = kernelSize * kernelSize
        var functions: [BasisFunction] = [], samples: [[Float]] = []
        let footprint = Self.footprint(supersampling: supersampling)
        for j in 0..<rings {
            // L2 norm of the continuous function: 2 pi int G^2 rho drho for m = 0, half of it for cos/sin m phi.
            var radialEnergy = 0.0
            for step in 0..<8000 {
                let rho = (Double(step) + 0.5) * 0.001
                let g = Self.profile(rho, ring: j, ringCount: rings, kernelSize: kernelSize)
                radialEnergy += g * g * rho * 0.001
            }
            for m in 0...Self.maximumFrequency(ring: j, ringCount: rings) {
                var b = [Double](repeating: 0, count: 2 * taps)
                for i in 0..<kernelSize {
                    for jj in 0..<kernelSize {
                        let t = i * kernelSize + jj
                        if j == 0 {
                            b[2 * t] = (i == kernelSize / 2 && jj == kernelSize / 2) ? 1 : 0
                            continue
                        }
                        var re = 0.0, im = 0.0
                        for (dx, dy, weight) in footprint {
                            let x = Double(jj) - c + dx, y = c - Double(i) + dy
                            let rho = (x * x + y * y).squareRoot()
                            if rho < 1e-12 && m > 0 { continue }  // e^(i m phi) averages to 0 at the origin
                            let g = weight * Self.profile(rho, ring: j, ringCount: rings, kernelSize: kernelSize)
                            let phi = Foundation.atan2(y, x)
                            re += g * Foundation.cos(Double(m) * phi)
                            im += g * Foundation.sin(Double(m) * phi)
                        }
                        b[2 * t] = re
                        b[2 * t + 1] = im
                    }
                }
                if j > 0, let steering { b = steering.correct(b, frequency: m) }
                for isSine in m == 0 ? [false] : [false, true] {
                    var sampled = 0.0
                    for t in 0..<taps { let v = isSine ? b[2 * t + 1] : b[2 * t]; sampled += v * v }
                    guard sampled > 1e-12 else { continue }
                    let norm = j == 0 ? 1 : (radialEnergy * Double.pi * (m == 0 ? 2 : 1)).squareRoot()
                    functions.append(BasisFunction(ring: j, frequency: m, isSine: isSine))
                    samples.append(b.map { Float($0 / norm) })
                }
            }
        }
        self.functions = functions
        self.harmonicSamples = samples
    }

    /// Offsets and weights of the pixel footprint: a Gaussian of width `footprintWidth` sampled on a grid of
    /// spacing `1 / supersampling` out to 3 widths, symmetric under quarter turns and flips, weights summing to 1.
    static func footprint(supersampling: Int) -> [(Double, Double, Double)] {
        let sigma = footprintWidth
        let n = 2 * Int((3 * sigma * Double(supersampling)).rounded(.up)) + 1
        var points: [(Double, Double, Double)] = []
        for a in 0..<n {
            for b in 0..<n {
                let dx = (Double(b) - Double(n - 1) / 2) / Double(supersampling)
                let dy = (Double(a) - Double(n - 1) / 2) / Double(supersampling)
                let r2 = dx * dx + dy * dy
                if r2 <= 9 * sigma * sigma { points.append((dx, dy, Gaussian.profile(squaredDistance: r2, sigma: sigma))) }
            }
        }
        let total = points.reduce(0) { $0 + $1.2 }
        return points.map { ($0.0, $0.1, $0.2 / total) }
    }

    /// The real sampled filter of basis function `index` rotated by `angle` (radians, counterclockwise),
    /// optionally reflected first (`phi -> -phi`): `[k*k]`, row-major taps.
    public func filter(_ index: Int, angle: Double = 0, reflected: Bool = false) -> [Float] {
        let f = functions[index], b = harmonicSamples[index]
        let a = -Double(f.frequency) * angle
        let (c, s) = (Foundation.cos(a), Foundation.sin(a))
        return (0..<tapCount).map { t in
            let re = Double(b[2 * t]), im = Double(b[2 * t + 1])
            // rotated harmonic: B e^(-i m theta); cosine part takes Re, sine part Im (sign flips on reflection)
            let rr = re * c - im * s, ri = re * s + im * c
            return Float(f.isSine ? (reflected ? -ri : ri) : rr)
        }
    }

    private static let cache = LockedCache<[Int], SteerableBasis>()

    /// The basis for `kernelSize`, computed once per process and shared by every layer.
    public static func shared(kernelSize: Int, supersampling: Int = 8) -> SteerableBasis {
        cache.value(for: [kernelSize, supersampling]) { SteerableBasis(kernelSize: kernelSize, supersampling: supersampling) }
    }

    /// Empties the per-process basis cache (benchmarks of cold layer construction call this, with
    /// `FilterExpansion.clearSharedCaches()`).
    static func clearSharedCache() { cache.removeAll() }
}
