import Core

/// Pooling over the orientations of each regular field (max or mean over its `|G|` channels), which turns it
/// into an invariant (trivial) field; trivial fields pass through. Cohen & Welling 2016; e2cnn's `GroupPooling`.
///
/// Input `[N, inType.size, H, W]`, output `[N, outType.size, H, W]` with `outType` = one trivial field per input field.
public final class GroupPooling: Layer, EquivariantLayer {
    public enum Kind: Sendable { case max, mean }

    public let inType: FieldType
    public let kind: Kind

    public init(_ inType: FieldType, _ kind: Kind = .max) {
        precondition(inType.isPermutationType, "GroupPooling supports trivial and regular fields, got \(inType)")
        self.inType = inType
        self.kind = kind
        super.init()
    }

    /// One trivial field per input field.
    public var outType: FieldType { FieldType(inType.group, trivial: inType.fieldCount) }

    public override func forward(_ input: Tensor) -> Tensor {
        inType.check(input.shape, in: "GroupPooling")
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let g = inType.group.order
        if inType.isRegular {
            let fields = input.reshaped([n, inType.fieldCount, g, h, w])
            return kind == .max ? fields.max(axis: 2) : fields.mean(axes: [2])
        }
        var parts: [Tensor] = []
        for (offset, rep) in zip(inType.channelOffsets, inType.representations) {
            let part = input.slice(axis: 1, range: offset..<(offset + rep.size))
            parts.append(rep.size == 1 ? part : (kind == .max ? part.max(axis: 1, keepingDims: true) : part.mean(axes: [1], keepingDims: true)))
        }
        return Tensor.concat(parts, axis: 1)
    }

    public override func makeCopy() -> Module { GroupPooling(inType, kind) }
}
