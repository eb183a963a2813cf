import Core

/// An image encoder shared by every domain adaptation method: `[N, 1, H, W]` float32 images in,
/// `[N, featureCount]` features out. Methods depend only on this protocol, so every method runs on every backbone.
public protocol Backbone: Layer {
    /// Width of the feature vector (256 for the reference setup).
    var featureCount: Int { get }
    /// The factory name this backbone is built from (`resnet18`, `c8resnet`, ...).
    var architectureName: String { get }
    /// Whether the backbone only accepts square images (rotation-equivariant networks do).
    var requiresSquareInput: Bool { get }
}

/// Estimated forward floating-point operations (multiply and add counted separately) for one image.
public protocol FLOPCounting {
    func forwardFLOPs(height: Int, width: Int) -> Double
}
