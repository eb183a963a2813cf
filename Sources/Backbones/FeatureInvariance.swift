import Core
import Equivariant

/// How far a backbone's pooled features move when the input image is transformed:
/// `max|f(g x) - f(x)| / max|f(x)|` over the batch, computed without gradients.
///
/// `element` is a rotation (and reflection) of `group`; quarter turns and flips are exact pixel permutations,
/// other angles use `method` (band-limited by default, so use smooth inputs and expect a small, non-zero error).
public func featureInvarianceError(of backbone: Backbone, images: Tensor, element: GroupElement, group: SymmetryGroup,
                                   method: RotationMethod = .bandLimited) -> Double {
    withoutGradient {
        let reference = backbone(images)
        let transformed = backbone(GroupAction.transformSpatially(images, by: element, group: group, method: method))
        var difference = 0.0, scale = 0.0
        for i in 0..<reference.count {
            difference = max(difference, Double(abs(reference.scalars[i] - transformed.scalars[i])))
            scale = max(scale, Double(abs(reference.scalars[i])))
        }
        return scale > 0 ? difference / scale : difference
    }
}
