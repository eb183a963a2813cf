import Core
import Foundation

/// Random affine warp about the image centre (torchvision `RandomAffine`): rotation by an angle from `degrees`,
/// translation by whole pixels drawn from `+-translate.x * W` and `+-translate.y * H`, isotropic scale from
/// `scales`, shears (degrees) along x from `shearX` and along y from `shearY`. Every parameter is drawn per image.
///
/// With `p` measured from the pixel-grid centre in y-up coordinates, the forward map is
/// `p' = s R(angle) Sh_y(shearY) Sh_x(shearX) p + t`, `Sh_x(a) = [[1, -tan a], [0, 1]]`,
/// `Sh_y(a) = [[1, 0], [-tan a, 1]]` (torchvision's decomposition); each output pixel samples the input at the
/// inverse image of its centre, by nearest neighbour (torchvision's default) or bilinearly. Samples outside the
/// input read `fill`.
public struct RandomAffine: ImageAugmentation {
    public enum Interpolation: Sendable { case nearest, bilinear }

    public let degrees: ClosedRange<Double>
    public let translate: (x: Double, y: Double)
    public let scales: ClosedRange<Double>
    public let shearX: ClosedRange<Double>
    public let shearY: ClosedRange<Double>
    public let interpolation: Interpolation
    public let fill: Float

    public init(degrees: ClosedRange<Double> = 0...0, translate: (x: Double, y: Double) = (0, 0),
                scales: ClosedRange<Double> = 1...1, shearX: ClosedRange<Double> = 0...0,
                shearY: ClosedRange<Double> = 0...0, interpolation: Interpolation = .nearest, fill: Float = 0) {
        precondition((0...1).contains(translate.x) && (0...1).contains(translate.y), "translate fractions must be in [0, 1]")
        precondition(scales.lowerBound > 0, "scales must be positive")
        self.degrees = degrees
        self.translate = translate
        self.scales = scales
        self.shearX = shearX
        self.shearY = shearY
        self.interpolation = interpolation
        self.fill = fill
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        let angle = generator.uniform(degrees.lowerBound, degrees.upperBound)
        let maxDx = translate.x * Double(image.width), maxDy = translate.y * Double(image.height)
        let tx = generator.uniform(-maxDx, maxDx).rounded(), ty = generator.uniform(-maxDy, maxDy).rounded()
        let scale = generator.uniform(scales.lowerBound, scales.upperBound)
        let sx = generator.uniform(shearX.lowerBound, shearX.upperBound)
        let sy = generator.uniform(shearY.lowerBound, shearY.upperBound)
        RandomAffine.warp(&image, degrees: angle, translation: (tx, ty), scale: scale, shear: (sx, sy),
                          interpolation: interpolation, fill: fill)
    }

    /// The deterministic warp; `translation` is in pixels with y pointing down (rows), like torchvision.
    public static func warp(_ image: inout ImageBuffer, degrees: Double, translation: (x: Double, y: Double),
                            scale: Double, shear: (x: Double, y: Double), interpolation: Interpolation = .bilinear,
                            fill: Float = 0) {
        let a = degrees * .pi / 180, shx = Foundation.tan(shear.x * .pi / 180), shy = Foundation.tan(shear.y * .pi / 180)
        let (c, s) = (Foundation.cos(a), Foundation.sin(a))
        // M = scale * R(a) * [[1, -shx], [-shy, 1 + shy * shx]]  (Sh_y * Sh_x)
        let m00 = scale * (c - s * -shy), m01 = scale * (c * -shx - s * (1 + shy * shx))
        let m10 = scale * (s + c * -shy), m11 = scale * (s * -shx + c * (1 + shy * shx))
        let det = m00 * m11 - m01 * m10
        guard det != 0 else { return }
        let (i00, i01, i10, i11) = (m11 / det, -m01 / det, -m10 / det, m00 / det)
        let h = image.height, w = image.width, plane = image.planeSize
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        let source = image.pixels
        source.withUnsafeBufferPointer { x in
            image.pixels.withUnsafeMutableBufferPointer { out in
                for i in 0..<h {
                    for j in 0..<w {
                        let px = Double(j) - cx - translation.x, py = cy - Double(i) + translation.y
                        let fj = i00 * px + i01 * py + cx, fi = cy - (i10 * px + i11 * py)
                        for ch in 0..<image.channels {
                            let base = ch * plane
                            out[base + i * w + j] = interpolation == .nearest
                                ? nearest(x, base, fi, fj, h, w, fill) : bilinear(x, base, fi, fj, h, w, fill)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func nearest(_ x: UnsafeBufferPointer<Float>, _ base: Int, _ fi: Double, _ fj: Double,
                                _ h: Int, _ w: Int, _ fill: Float) -> Float {
        let i = Int(fi.rounded(.toNearestOrEven)), j = Int(fj.rounded(.toNearestOrEven))
        return i >= 0 && i < h && j >= 0 && j < w ? x[base + i * w + j] : fill
    }

    @inline(__always)
    private static func bilinear(_ x: UnsafeBufferPointer<Float>, _ base: Int, _ fi: Double, _ fj: Double,
                                 _ h: Int, _ w: Int, _ fill: Float) -> Float {
        let i0 = Int(Foundation.floor(fi)), j0 = Int(Foundation.floor(fj))
        let ti = Float(fi - Double(i0)), tj = Float(fj - Double(j0))
        func at(_ i: Int, _ j: Int) -> Float { i >= 0 && i < h && j >= 0 && j < w ? x[base + i * w + j] : fill }
        let top = at(i0, j0) * (1 - tj) + at(i0, j0 + 1) * tj
        let bottom = at(i0 + 1, j0) * (1 - tj) + at(i0 + 1, j0 + 1) * tj
        return top * (1 - ti) + bottom * ti
    }
}
