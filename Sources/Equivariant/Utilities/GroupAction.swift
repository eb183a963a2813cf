import Core
import Foundation

/// The action of a planar symmetry group on images and feature maps:
/// `(g . f)(x) = rho(g) f(g^-1 x)` for a field type with representation `rho` (Weiler & Cesa 2019, eq. 1).
///
/// The spatial part of `g = R_r F^s` first flips top-bottom (`F: (x, y) -> (x, -y)`) when `s = 1`, then rotates
/// counterclockwise by `2 pi r / N`: by exact quarter turns when the angle is a multiple of 90 degrees, else with
/// `ImageRotation.rotate` (band-limited by default). The channel part permutes the channels of trivial and
/// regular fields (a regular field's orientation axis is shifted cyclically). Differentiable.
public enum GroupAction {
    /// Transforms `tensor` `[N, type.size, H, W]` by `g`.
    public static func transform(_ tensor: Tensor, by g: GroupElement, type: FieldType,
                                 method: RotationMethod = .bandLimited) -> Tensor {
        type.check(tensor.shape, in: "GroupAction.transform")
        let spatial = transformSpatially(tensor, by: g, group: type.group, method: method)
        let permutation = type.permutation(g)
        if permutation == Array(0..<type.size) { return spatial }
        return spatial.indexSelect(axis: 1, indices: permutation)
    }

    /// Applies only the spatial part `f(g^-1 x)` to `[..., H, W]` (images, or channels taken as scalars).
    public static func transformSpatially(_ tensor: Tensor, by g: GroupElement, group: SymmetryGroup,
                                          method: RotationMethod = .bandLimited) -> Tensor {
        var x = g.reflected ? ImageRotation.flipVertical(tensor) : tensor
        let r = group.mod(g.rotation), n = group.rotationOrder
        if r == 0 { return x }
        if (4 * r) % n == 0 {
            x = ImageRotation.rot90(x, times: 4 * r / n)
        } else {
            x = ImageRotation.rotate(x, angle: group.angle(of: GroupElement(rotation: r)), method: method)
        }
        return x
    }
}

/// How far a map is from commuting with the group action, `|f(g . x) - g . f(x)|_inf / |g . f(x)|_inf`.
///
/// - Parameters:
///   - map: any layer or network from `inType` to `outType` (called on `[N, inType.size, H, W]`).
///   - element: the group element to test (e.g. `GroupElement(rotation: 1)` for 45 degrees in C8).
///   - diskFraction: if set, only pixels within `diskFraction * min(H, W) / 2` of the centre are compared
///     (arbitrary-angle rotations are only meaningful inside the disk the square keeps).
///   - method: the interpolation for non-quarter-turn rotations.
/// - Returns: the relative max-norm error (0 for an exactly equivariant map).
public func equivarianceError(
    of map: (Tensor) -> Tensor, input: Tensor, inType: FieldType, outType: FieldType, element: GroupElement,
    diskFraction: Double? = nil, method: RotationMethod = .bandLimited
) -> Double {
    withoutGradient {
        let a = map(GroupAction.transform(input, by: element, type: inType, method: method))
        let b = GroupAction.transform(map(input), by: element, type: outType, method: method)
        precondition(a.shape == b.shape, "equivarianceError: outputs \(a.shape) and \(b.shape) differ")
        let h = a.shape[2], w = a.shape[3]
        var inside = [Bool](repeating: true, count: h * w)
        if let diskFraction {
            let radius = diskFraction * Double(min(h, w)) / 2
            let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
            for i in 0..<h { for j in 0..<w { inside[i * w + j] = (Double(i) - cy) * (Double(i) - cy) + (Double(j) - cx) * (Double(j) - cx) <= radius * radius } }
        }
        var diff = 0.0, scale = 0.0
        a.scalars.withUnsafeBufferPointer { ap in
            b.scalars.withUnsafeBufferPointer { bp in
                for idx in 0..<ap.count where inside[idx % (h * w)] {
                    diff = max(diff, Double(Swift.abs(ap[idx] - bp[idx])))
                    scale = max(scale, Double(Swift.abs(bp[idx])))
                }
            }
        }
        return scale == 0 ? diff : diff / scale
    }
}
