import Core
import Foundation

/// Smooth, band-limited random test images for equivariance checks: white Gaussian noise, blurred by a
/// Gaussian of width `sigma` pixels (separable, truncated at 4 sigma), normalised to unit maximum, and
/// multiplied by a radial taper that is 1 inside `0.5 R` and falls as a raised cosine to 0 at `0.85 R`
/// (`R = min(H, W) / 2`). The taper keeps content away from the border, where no rotation is defined, so
/// arbitrary-angle rotations act on the image without boundary artefacts.
public enum SmoothRandomField {
    /// A tensor of shape `shape` (`[..., H, W]`).
    public static func make(_ shape: [Int], sigma: Double = 2, generator: inout SeededGenerator) -> Tensor {
        precondition(shape.count >= 2, "SmoothRandomField needs [..., H, W], got \(shape)")
        let h = shape[shape.count - 2], w = shape[shape.count - 1], plane = h * w
        let planes = shape.reduce(1, *) / max(1, plane)
        let radius = Int((4 * sigma).rounded(.up))
        let kernel = Gaussian.kernel(size: 2 * radius + 1, sigma: sigma)
        let taper = radialTaper(height: h, width: w)
        var out = [Float](repeating: 0, count: planes * plane)
        for p in 0..<planes {
            let noise = generator.normals(plane)
            var rows = [Double](repeating: 0, count: plane), field = [Double](repeating: 0, count: plane)
            for i in 0..<h {
                for j in 0..<w {
                    var acc = 0.0
                    for (t, k) in kernel.enumerated() { let jj = j + t - radius; if jj >= 0, jj < w { acc += k * Double(noise[i * w + jj]) } }
                    rows[i * w + j] = acc
                }
            }
            for i in 0..<h {
                for j in 0..<w {
                    var acc = 0.0
                    for (t, k) in kernel.enumerated() { let ii = i + t - radius; if ii >= 0, ii < h { acc += k * rows[ii * w + j] } }
                    field[i * w + j] = acc
                }
            }
            let peak = field.map { Swift.abs($0) }.max() ?? 1
            for t in 0..<plane { out[p * plane + t] = Float(field[t] / max(peak, 1e-12) * taper[t]) }
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// The radial taper used by `make`: 1 within `0.5 R`, raised cosine to 0 at `0.85 R`, `R = min(H, W) / 2`.
    public static func radialTaper(height h: Int, width w: Int) -> [Double] {
        let r = Double(min(h, w)) / 2, cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        return (0..<(h * w)).map { t in
            let rho = ((Double(t / w) - cy) * (Double(t / w) - cy) + (Double(t % w) - cx) * (Double(t % w) - cx)).squareRoot() / r
            if rho <= 0.5 { return 1 }
            if rho >= 0.85 { return 0 }
            return 0.5 * (1 + Foundation.cos(Double.pi * (rho - 0.5) / 0.35))
        }
    }
}
