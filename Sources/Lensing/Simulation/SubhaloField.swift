import Core
import Foundation

/// The summed deflection of many subhalos, arranged for fast evaluation along image rows.
///
/// Every subhalo is first added everywhere as a point mass of its total mass (a branch-free SIMD loop); for
/// truncated NFW halos the difference "exact TNFW minus point mass" is then added inside the disc where it
/// exceeds `tolerance` (arcsec). Outside that disc the TNFW's projected mass has converged, so the point-mass
/// deflection is exact to `tolerance`: the radius comes from bisection on the monotonically decreasing
/// `|alpha_TNFW(R) - alpha_pm(R)| = R |a(R) - theta_E^2 / R^2|`.
struct SubhaloField {
    /// Point-mass strengths `theta_E^2` and centres, structure-of-arrays for the SIMD loop.
    var x: [Double] = []
    var y: [Double] = []
    var strength: [Double] = []
    /// Truncated NFW halos with the squared radius of their exact-evaluation disc.
    var nearField: [(profile: TNFW, radiusSquared: Double, strength: Double)] = []

    init(subhalos: [Subhalo], tolerance: Double) {
        x.reserveCapacity(subhalos.count)
        for s in subhalos {
            x.append(s.x)
            y.append(s.y)
            strength.append(s.thetaE * s.thetaE)
            guard s.isTNFW else { continue }
            let profile = TNFW(pointMassThetaE: s.thetaE, Rs: s.Rs, rTrunc: s.rTrunc, centerX: s.x, centerY: s.y)
            let m = s.thetaE * s.thetaE
            func excess(_ r: Double) -> Double { r * abs(profile.deflectionFactor(radiusSquared: r * r) - m / (r * r)) }
            var lo = log(1e-4 * min(s.Rs, s.rTrunc)), hi = log(100.0)
            if excess(exp(hi)) > tolerance {
                lo = hi
            } else {
                for _ in 0..<40 {
                    let mid = 0.5 * (lo + hi)
                    if excess(exp(mid)) > tolerance { lo = mid } else { hi = mid }
                }
            }
            let radius = exp(hi)
            nearField.append((profile, radius * radius, m))
        }
    }

    var isEmpty: Bool { x.isEmpty }

    /// Adds the field along one row of rays: positions `xs[0..<count]` at height `rowY`.
    func accumulate(rowY: Double, xs: UnsafePointer<Double>, count: Int,
                    alphaX: UnsafeMutablePointer<Double>, alphaY: UnsafeMutablePointer<Double>) {
        let k = x.count
        guard k > 0 else { return }
        x.withUnsafeBufferPointer { cx in
            y.withUnsafeBufferPointer { cy in
                strength.withUnsafeBufferPointer { m in
                    var i = 0
                    typealias V = SIMDMath.Vector
                    let width = V.scalarCount
                    while i + width <= count {
                        let px = UnsafeRawPointer(xs + i).loadUnaligned(as: V.self)
                        var sx = V.zero, sy = V.zero
                        for h in 0..<k {
                            let dx = px - cx[h]
                            let dy = rowY - cy[h]
                            let r2 = dx * dx + (dy * dy + 1e-30)
                            let f = m[h] / r2
                            sx += f * dx
                            sy += f * dy
                        }
                        let ax = UnsafeMutableRawPointer(alphaX + i), ay = UnsafeMutableRawPointer(alphaY + i)
                        ax.storeBytes(of: ax.loadUnaligned(as: V.self) + sx, as: V.self)
                        ay.storeBytes(of: ay.loadUnaligned(as: V.self) + sy, as: V.self)
                        i += width
                    }
                    while i < count {
                        var sx = 0.0, sy = 0.0
                        for h in 0..<k {
                            let dx = xs[i] - cx[h], dy = rowY - cy[h]
                            let f = m[h] / (dx * dx + dy * dy + 1e-30)
                            sx += f * dx
                            sy += f * dy
                        }
                        alphaX[i] += sx
                        alphaY[i] += sy
                        i += 1
                    }
                }
            }
        }
        for (profile, radiusSquared, m) in nearField {
            let dy = rowY - profile.centerY
            let span2 = radiusSquared - dy * dy
            guard span2 > 0 else { continue }
            let span = span2.squareRoot()
            let lo = lowerIndex(xs, count, profile.centerX - span)
            let hi = lowerIndex(xs, count, (profile.centerX + span).nextUp)
            // SIMDMath.width rays at a time; a short last group repeats its last ray and stores only the real ones
            typealias V = SIMDMath.Vector
            let width = V.scalarCount
            var i = lo
            while i + width <= hi {
                let dx = UnsafeRawPointer(xs + i).loadUnaligned(as: V.self) - profile.centerX
                let r2 = dx * dx + (dy * dy + 1e-30)
                let f = profile.deflectionFactor(radiusSquared: r2) - m / r2
                let ax = UnsafeMutableRawPointer(alphaX + i), ay = UnsafeMutableRawPointer(alphaY + i)
                ax.storeBytes(of: ax.loadUnaligned(as: V.self) + f * dx, as: V.self)
                ay.storeBytes(of: ay.loadUnaligned(as: V.self) + f * dy, as: V.self)
                i += width
            }
            if i < hi {
                let lanes = hi - i
                var dx = V()
                for l in 0..<width { dx[l] = xs[i + min(l, lanes - 1)] - profile.centerX }
                let r2 = dx * dx + (dy * dy + 1e-30)
                let f = profile.deflectionFactor(radiusSquared: r2) - m / r2
                for l in 0..<lanes {
                    alphaX[i + l] += f[l] * dx[l]
                    alphaY[i + l] += f[l] * dy
                }
            }
        }
    }

    /// First index with `xs[i] >= value` in the increasing array `xs`.
    private func lowerIndex(_ xs: UnsafePointer<Double>, _ count: Int, _ value: Double) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if xs[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
