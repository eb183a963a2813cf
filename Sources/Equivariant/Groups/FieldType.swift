/// The type of a feature space: a list of fields, each transforming under one representation of the group
/// (Weiler & Cesa 2019, "feature fields"). A tensor of this type has layout `[N, size, H, W]`, the channels of
/// field `i` being `channelOffsets[i] ..< channelOffsets[i] + representations[i].size`; a regular field's
/// channels are ordered by group element index (`reflection * N + rotation`).
public struct FieldType: Hashable, Sendable, CustomStringConvertible {
    public let group: SymmetryGroup
    public let representations: [Representation]

    public init(_ group: SymmetryGroup, _ representations: [Representation]) {
        precondition(representations.allSatisfy { $0.group == group }, "every field of a FieldType must use \(group)")
        self.group = group
        self.representations = representations
    }

    /// `count` scalar fields (e.g. `FieldType(.cyclic(8), trivial: 1)` for a grayscale image).
    public init(_ group: SymmetryGroup, trivial count: Int) {
        self.init(group, Array(repeating: .trivial(group), count: count))
    }

    /// `count` regular fields (`count * |G|` channels).
    public init(_ group: SymmetryGroup, regular count: Int) {
        self.init(group, Array(repeating: .regular(group), count: count))
    }

    /// Fields of `self` followed by those of `other` (the direct sum).
    public static func + (a: FieldType, b: FieldType) -> FieldType {
        precondition(a.group == b.group, "cannot add field types of \(a.group) and \(b.group)")
        return FieldType(a.group, a.representations + b.representations)
    }

    /// Number of fields.
    public var fieldCount: Int { representations.count }
    /// Number of channels: the sum of the representation sizes.
    public var size: Int { representations.reduce(0) { $0 + $1.size } }
    /// First channel of each field.
    public var channelOffsets: [Int] {
        var offsets: [Int] = [], c = 0
        for r in representations { offsets.append(c); c += r.size }
        return offsets
    }
    /// Whether every field transforms by permuting its channels (trivial or regular fields).
    public var isPermutationType: Bool { representations.allSatisfy(\.isPermutation) }
    /// Whether every field is regular.
    public var isRegular: Bool { representations.allSatisfy { $0.kind == .regular } }
    /// Whether every field is trivial.
    public var isTrivial: Bool { representations.allSatisfy { $0.kind == .trivial } }

    public var description: String {
        var parts: [String] = [], i = 0
        while i < representations.count {
            var j = i
            while j < representations.count, representations[j] == representations[i] { j += 1 }
            parts.append("\(j - i)x\(representations[i])")
            i = j
        }
        return "FieldType(\(group): \(parts.joined(separator: ", ")))"
    }

    /// Checks that `shape` is `[N, size, H, W]` and stops with a message naming the layer and the expected
    /// type otherwise. Every equivariant layer calls this on its input.
    public func check(_ shape: [Int], in layer: String) {
        precondition(shape.count == 4 && shape[1] == size,
                     "\(layer) expects input of \(self) (\(size) channels, [N, \(size), H, W]), got shape \(shape)")
    }

    /// The channel representation matrix for `g`: block diagonal over the fields, `size x size`, row-major.
    public func matrix(_ g: GroupElement) -> [Double] {
        let n = size
        var m = [Double](repeating: 0, count: n * n)
        for (offset, rep) in zip(channelOffsets, representations) {
            let block = rep.matrix(g), d = rep.size
            for i in 0..<d { for j in 0..<d { m[(offset + i) * n + offset + j] = block[i * d + j] } }
        }
        return m
    }

    /// For permutation types: output channel `c` of `rho(g) v` reads input channel `permutation(g)[c]`.
    public func permutation(_ g: GroupElement) -> [Int] {
        precondition(isPermutationType, "\(self) has fields that do not permute channels")
        var result: [Int] = []
        for (offset, rep) in zip(channelOffsets, representations) { result += rep.permutation(g).map { $0 + offset } }
        return result
    }
}
