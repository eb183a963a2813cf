import Foundation

/// Rotation of images `[..., H, W]` by bilinear interpolation about the pixel-grid centre; samples that fall
/// outside the image read zero. Cheap and local, but it low-pass filters the image (its error on smooth inputs
/// is about 100x that of `FourierRotation`). Same orientation convention as `PixelPermutation`.
public struct BilinearRotation: LinearOperator {
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    /// Per output pixel: four source indices (or -1) and their weights.
    let taps: [Int32]
    let weights: [Float]
    let plane: Int

    /// - Parameter angle: radians, counterclockwise.
    public init(shape: [Int], angle: Double) {
        precondition(shape.count >= 2, "rotation needs [..., H, W], got \(shape)")
        inputShape = shape
        let h = shape[shape.count - 2], w = shape[shape.count - 1]
        plane = h * w
        var taps = [Int32](repeating: -1, count: plane * 4), weights = [Float](repeating: 0, count: plane * 4)
        let c = Foundation.cos(angle), s = Foundation.sin(angle)
        let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        for i in 0..<h {
            for j in 0..<w {
                let x = Double(j) - cx, y = cy - Double(i)
                let sx = c * x + s * y, sy = -s * x + c * y  // R(-theta) p
                let fj = sx + cx, fi = cy - sy
                let j0 = Int(Foundation.floor(fj)), i0 = Int(Foundation.floor(fi))
                let tj = fj - Double(j0), ti = fi - Double(i0)
                let o = (i * w + j) * 4
                for (k, (di, dj)) in [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
                    let ii = i0 + di, jj = j0 + dj
                    guard ii >= 0, ii < h, jj >= 0, jj < w else { continue }
                    taps[o + k] = Int32(ii * w + jj)
                    weights[o + k] = Float((di == 0 ? 1 - ti : ti) * (dj == 0 ? 1 - tj : tj))
                }
            }
        }
        self.taps = taps
        self.weights = weights
    }

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let planes = plane == 0 ? 0 : input.count / plane
        taps.withUnsafeBufferPointer { t in
            weights.withUnsafeBufferPointer { wt in
                for p in 0..<planes {
                    let base = p * plane
                    for o in 0..<plane {
                        var acc: Float = 0
                        for k in 0..<4 where t[o * 4 + k] >= 0 { acc += wt[o * 4 + k] * input[base + Int(t[o * 4 + k])] }
                        output[base + o] = acc
                    }
                }
            }
        }
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let planes = plane == 0 ? 0 : input.count / plane
        output.initialize(repeating: 0)
        taps.withUnsafeBufferPointer { t in
            weights.withUnsafeBufferPointer { wt in
                for p in 0..<planes {
                    let base = p * plane
                    for o in 0..<plane {
                        let g = input[base + o]
                        for k in 0..<4 where t[o * 4 + k] >= 0 { output[base + Int(t[o * 4 + k])] += wt[o * 4 + k] * g }
                    }
                }
            }
        }
    }
}

/// How `ImageRotation.rotate` interpolates.
public enum RotationMethod: Sendable {
    /// Three Fourier shears (`FourierRotation`): exact on band-limited images, used for equivariance checks.
    case bandLimited
    /// Bilinear interpolation (`BilinearRotation`).
    case bilinear
}

/// Rotations and flips of images `[..., H, W]`, all differentiable (each is a `LinearOperator`).
/// Orientation convention: positive angles and quarter turns are counterclockwise as displayed
/// (see `PixelPermutation`).
public enum ImageRotation {
    /// Exact rotation by `times` quarter turns counterclockwise (`torch.rot90(x, times, dims=(-2, -1))`).
    public static func rot90(_ images: Tensor, times: Int) -> Tensor {
        images.applying(PixelPermutation.rot90(shape: images.shape, times: times), name: "rot90")
    }

    /// Mirror left-right: `out[..., i, j] = in[..., i, W-1-j]`.
    public static func flipHorizontal(_ images: Tensor) -> Tensor {
        images.applying(PixelPermutation.flipHorizontal(shape: images.shape), name: "flipHorizontal")
    }

    /// Mirror top-bottom: `out[..., i, j] = in[..., H-1-i, j]`.
    public static func flipVertical(_ images: Tensor) -> Tensor {
        images.applying(PixelPermutation.flipVertical(shape: images.shape), name: "flipVertical")
    }

    /// Rotation by `angle` radians counterclockwise about the image centre. Multiples of 90 degrees are
    /// exact pixel permutations with either method; for odd quarter turns of non-square images the last two
    /// extents swap (band-limited method only; bilinear keeps the canvas).
    public static func rotate(_ images: Tensor, angle: Double, method: RotationMethod = .bandLimited) -> Tensor {
        switch method {
        case .bandLimited: return images.applying(FourierRotation(shape: images.shape, angle: angle), name: "rotateBandLimited")
        case .bilinear: return images.applying(BilinearRotation(shape: images.shape, angle: angle), name: "rotateBilinear")
        }
    }

    /// Rotation by `degrees` counterclockwise; see `rotate(_:angle:method:)`.
    public static func rotate(_ images: Tensor, degrees: Double, method: RotationMethod = .bandLimited) -> Tensor {
        rotate(images, angle: degrees * Double.pi / 180, method: method)
    }
}
