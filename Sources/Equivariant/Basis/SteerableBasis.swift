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
/// - Pixel-area integration: each tap is the mean of the continuous function over its unit pixel, by an
///   `s x s` midpoint rule (`s = supersampling`, default 8), not a point sample at the pixel centre.
/// - Normalisation: every sampled (unrotated) function has unit Euclidean norm over the `k x k` taps.
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

    public init(kernelSize: Int, supersampling: Int = 8) {
        precondition(kernelSize >= 1 && kernelSize % 2 == 1, "steerable kernels need an odd size, got \(kernelSize)")
        precondition(supersampling >= 1, "supersampling must be >= 1")
        self.kernelSize = kernelSize
        self.supersampling = supersampling
        let rings = (kernelSize - 1) / 2 + 1, c = Double(kernelSize - 1) / 2, taps = kernelSize * kernelSize
        var functions: [BasisFunction] = [], samples: [[Float]] = []
        let footprint = Self.footprint(supersampling: supersampling, mode: Self.mode)
        for j in 0..<rings {
            let sigma = Self.ringWidth(ring: j, ringCount: rings)
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
                        for (dx, dy, wgt) in footprint {
                            let x = Double(jj) - c + dx, y = c - Double(i) + dy
                            let rho = (x * x + y * y).squareRoot()
                            let g = Foundation.exp(-(rho - Double(j)) * (rho - Double(j)) / (2 * sigma * sigma))
                            let phi = Foundation.atan2(y, x)
                            re += wgt * g * Foundation.cos(Double(m) * phi)
                            im += wgt * g * Foundation.sin(Double(m) * phi)
                        }
                        b[2 * t] = re
                        b[2 * t + 1] = im
                    }
                }
                for isSine in m == 0 ? [false] : [false, true] {
                    var norm = 0.0
                    for t in 0..<taps { let v = isSine ? b[2 * t + 1] : b[2 * t]; norm += v * v }
                    norm = norm.squareRoot()
                    guard norm > 1e-6 else { continue }
                    functions.append(BasisFunction(ring: j, frequency: m, isSine: isSine))
                    samples.append(b.map { Float($0 / norm) })
                }
            }
        }
        self.functions = functions
        self.harmonicSamples = samples
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

    nonisolated(unsafe) static var mode = 0
    static func footprint(supersampling s: Int, mode: Int) -> [(Double, Double, Double)] {
        var pts: [(Double, Double, Double)] = []
        let fine = mode == 0 ? s : 4 * s
        let half = mode == 0 ? 0.5 : (mode == 1 ? 1 / Double.pi.squareRoot() : 3 * 0.35)
        for a in 0..<fine {
            for b in 0..<fine {
                let dx = ((Double(b) + 0.5) / Double(fine) - 0.5) * 2 * half
                let dy = ((Double(a) + 0.5) / Double(fine) - 0.5) * 2 * half
                var w = 1.0
                if mode == 1 { w = dx * dx + dy * dy <= half * half ? 1 : 0 }
                if mode == 2 { w = Foundation.exp(-(dx * dx + dy * dy) / (2 * 0.35 * 0.35)) }
                if w > 0 { pts.append((dx, dy, w)) }
            }
        }
        let total = pts.reduce(0) { $0 + $1.2 }
        return pts.map { ($0.0, $0.1, $0.2 / total) }
    }

    private static let cache = LockedCache<[Int], SteerableBasis>()

    /// The basis for `kernelSize`, computed once per process and shared by every layer.
    public static func shared(kernelSize: Int, supersampling: Int = 8) -> SteerableBasis {
        cache.value(for: [kernelSize, supersampling]) { SteerableBasis(kernelSize: kernelSize, supersampling: supersampling) }
    }
}

/// A small thread-safe memo table.
final class LockedCache<Key: Hashable, Value>: @unchecked Sendable {
    private var table: [Key: Value] = [:]
    private let lock = NSLock()
    func value(for key: Key, make: () -> Value) -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let v = table[key] { return v }
        let v = make()
        table[key] = v
        return v
    }
}
