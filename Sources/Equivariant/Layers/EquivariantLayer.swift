import Core

/// A layer between typed feature spaces (e2cnn's `EquivariantModule`): `forward` maps `[N, inType.size, H, W]` to
/// `[N, outType.size, H', W']` and commutes with the group's action on both, `f(g . x) = g . f(x)` (measured by
/// `equivarianceError`; exact for quarter turns and flips where the stride rule holds).
public protocol EquivariantLayer: Layer {
    /// The field type of the input.
    var inType: FieldType { get }
    /// The field type of the output.
    var outType: FieldType { get }
}

/// An equivariant layer whose output has the field type of its input (non-linearities, spatial pooling, batch norm,
/// masks, dropout).
public protocol TypePreservingLayer: EquivariantLayer {
    /// The field type of input and output.
    var type: FieldType { get }
}

extension TypePreservingLayer {
    public var inType: FieldType { type }
    public var outType: FieldType { type }
}
