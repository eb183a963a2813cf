/// A dense float32 tensor in row-major order (images are NCHW) that records the operations applied to it
/// on a define-by-run tape, so that `backward()` can compute gradients in reverse mode.
///
/// `Tensor` is a reference type: parameters are shared between a module and its optimizer, and a gradient
/// accumulates in place on the leaf tensor that owns it.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// The extent of each axis, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    /// Every mutation bumps `version`, which caches derived from this tensor compare against.
    public var scalars: [Float] {
        get { storage }
        _modify { version &+= 1; yield &storage }
        set { storage = newValue; version &+= 1 }
    }
    // A plain stored array behind `_modify`: `didSet` would copy the whole buffer on every in-place write.
    private var storage: [Float]
    /// Incremented on every change of `scalars` (optimizer steps, loading), like PyTorch's `_version`.
    public private(set) var version = 0
    /// Whether gradients flow into this tensor. Leaves with `requiresGrad` accumulate `grad` in `backward()`.
    public var requiresGrad: Bool
    /// The accumulated gradient of a leaf tensor (same shape), or nil before the first backward pass.
    public var grad: Tensor?
    /// The tape entry that produced this tensor; nil for leaves and for tensors made without gradient tracking.
    var gradFunction: GradFunction?

    /// Creates a tensor from row-major scalars; the count must match the shape.
    public init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.storage = scalars
        self.requiresGrad = requiresGrad
    }

    /// A tensor of the given shape filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A zero tensor of the given shape.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    /// A tensor of ones of the given shape.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// A rank-0 tensor holding one value.
    public convenience init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// Number of elements.
    public var count: Int { scalars.count }
    /// Number of axes.
    public var rank: Int { shape.count }
    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(scalars.count == 1, "item needs a one-element tensor, shape is \(shape)")
        return scalars[0]
    }
    /// Whether this tensor was produced by a recorded operation (it is not a leaf).
    public var isLeaf: Bool { gradFunction == nil }

    /// A tensor sharing these values but cut from the tape: no gradient flows through it.
    public func detached() -> Tensor { Tensor(shape: shape, scalars: scalars) }

    /// Replaces the values in place (shape must match) without touching the tape; for optimizers and loading.
    public func assign(_ newScalars: [Float]) {
        precondition(newScalars.count == scalars.count, "assign: \(newScalars.count) values into shape \(shape)")
        scalars = newScalars
    }

    /// Reinterprets the shape without copying; used by ops that own a freshly made tensor.
    func setShape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == scalars.count, "cannot view \(shape) as \(newShape)")
        shape = newShape
    }

    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(scalars.count > 8 ? ", ..." : "")])"
    }
}

/// Shape errors name both shapes; a mismatch is a programming error and stops the program.
@inline(__always)
func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
    precondition(a.shape == b.shape, "\(op): shapes \(a.shape) and \(b.shape) do not match")
}

/// Resolves a possibly negative axis against a rank.
@inline(__always)
func normalizeAxis(_ axis: Int, rank: Int, _ op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
    return a
}

/// Row-major strides of a shape.
@inline(__always)
func stridesOf(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
