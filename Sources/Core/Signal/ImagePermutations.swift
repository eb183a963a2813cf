/// Exact pixel permutations of images `[..., H, W]`: quarter turns and flips.
///
/// Orientation convention (used by every rotation in the library): row index `i` grows downwards, column
/// index `j` to the right, and a positive angle turns the picture counterclockwise as displayed. With
/// `x = j - (W-1)/2`, `y = (H-1)/2 - i`, the rotated image is `out(p) = in(R(-theta) p)`. A quarter turn is
/// then `out[i, j] = in[j, W-1-i]` (the same as `torch.rot90(x, 1, dims=(-2, -1))`).
public struct PixelPermutation: LinearOperator {
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// `source[o]` is the input index that output element `o` copies, within one `H x W` plane.
    let source: [Int]
    let planeIn: Int

    /// Counterclockwise quarter turns (`times` may be negative or > 3).
    public static func rot90(shape: [Int], times: Int) -> PixelPermutation {
        precondition(shape.count >= 2, "rot90 needs [..., H, W], got \(shape)")
        let h = shape[shape.count - 2], w = shape[shape.count - 1]
        let q = ((times % 4) + 4) % 4
        let (oh, ow) = q % 2 == 0 ? (h, w) : (w, h)
        var source = [Int](repeating: 0, count: h * w)
        for i in 0..<oh {
            for j in 0..<ow {
                let (si, sj): (Int, Int)
                switch q {
                case 0: (si, sj) = (i, j)
                case 1: (si, sj) = (j, w - 1 - i)
                case 2: (si, sj) = (h - 1 - i, w - 1 - j)
                default: (si, sj) = (h - 1 - j, i)
                }
                source[i * ow + j] = si * w + sj
            }
        }
        var out = shape
        out[out.count - 2] = oh
        out[out.count - 1] = ow
        return PixelPermutation(inputShape: shape, outputShape: out, source: source, planeIn: h * w)
    }

    /// Mirror left-right (`out[i, j] = in[i, W-1-j]`): the reflection `x -> -x`.
    public static func flipHorizontal(shape: [Int]) -> PixelPermutation {
        precondition(shape.count >= 2, "flip needs [..., H, W], got \(shape)")
        let h = shape[shape.count - 2], w = shape[shape.count - 1]
        var source = [Int](repeating: 0, count: h * w)
        for i in 0..<h { for j in 0..<w { source[i * w + j] = i * w + (w - 1 - j) } }
        return PixelPermutation(inputShape: shape, outputShape: shape, source: source, planeIn: h * w)
    }

    /// Mirror top-bottom (`out[i, j] = in[H-1-i, j]`): the reflection `y -> -y`.
    public static func flipVertical(shape: [Int]) -> PixelPermutation {
        precondition(shape.count >= 2, "flip needs [..., H, W], got \(shape)")
        let h = shape[shape.count - 2], w = shape[shape.count - 1]
        var source = [Int](repeating: 0, count: h * w)
        for i in 0..<h { for j in 0..<w { source[i * w + j] = (h - 1 - i) * w + j } }
        return PixelPermutation(inputShape: shape, outputShape: shape, source: source, planeIn: h * w)
    }

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let planes = planeIn == 0 ? 0 : input.count / planeIn
        source.withUnsafeBufferPointer { src in
            for p in 0..<planes {
                let base = p * planeIn
                for o in 0..<planeIn { output[base + o] = input[base + src[o]] }
            }
        }
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        let planes = planeIn == 0 ? 0 : input.count / planeIn
        source.withUnsafeBufferPointer { src in
            for p in 0..<planes {
                let base = p * planeIn
                for o in 0..<planeIn { output[base + src[o]] = input[base + o] }
            }
        }
    }
}
