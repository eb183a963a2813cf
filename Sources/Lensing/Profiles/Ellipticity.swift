import Foundation

/// Conversions between lenstronomy's ellipticity components and axis ratio / position angle.
///
/// `e1 = (1 - q)/(1 + q) cos 2 phi`, `e2 = (1 - q)/(1 + q) sin 2 phi`, where `q <= 1` is the minor-to-major
/// axis ratio and `phi` the angle of the major axis from the x axis (radians, counter-clockwise).
public enum Ellipticity {
    /// `(q, phi)` from `(e1, e2)`; `q` is clamped to at least 1e-9 so degenerate inputs stay finite.
    public static func axisRatioAndAngle(e1: Double, e2: Double) -> (q: Double, phi: Double) {
        let c = min((e1 * e1 + e2 * e2).squareRoot(), 1 - 1e-9)
        return ((1 - c) / (1 + c), 0.5 * atan2(e2, e1))
    }

    /// `(e1, e2)` from the axis ratio `q` and major-axis angle `phi`.
    public static func components(q: Double, phi: Double) -> (e1: Double, e2: Double) {
        let c = (1 - q) / (1 + q)
        return (c * cos(2 * phi), c * sin(2 * phi))
    }
}

/// A rotation into a profile's frame: `x'` along the major axis, `y'` along the minor axis.

struct AxisFrame: Sendable {
    let cosPhi: Double
    let sinPhi: Double

    init(phi: Double) {
        cosPhi = cos(phi)
        sinPhi = sin(phi)
    }

    /// Coordinates of the offset `(dx, dy)` in the rotated frame.
    @inline(__always) func toFrame(_ dx: Double, _ dy: Double) -> (Double, Double) {
        (cosPhi * dx + sinPhi * dy, -sinPhi * dx + cosPhi * dy)
    }

    /// A vector given in the rotated frame, expressed back on the sky axes.
    @inline(__always) func fromFrame(_ u: Double, _ v: Double) -> SIMD2<Double> {
        SIMD2(cosPhi * u - sinPhi * v, sinPhi * u + cosPhi * v)
    }
}
