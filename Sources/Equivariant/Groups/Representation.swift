import Foundation

/// A real orthogonal representation `rho: G -> O(d)` of a `SymmetryGroup`, the transformation law of one
/// feature field (Cohen & Welling 2017; Weiler & Cesa 2019).
///
/// - `trivial`: `d = 1`, `rho(g) = 1` (scalar fields such as an image).
/// - `regular`: `d = |G|`, `rho(g) e_h = e_(g h)`, a permutation of the orientation channels.
/// - `irreducible(frequency:reflection:)`: for `C_N`, `psi_k(r) = R(2 pi k r / N)` (2x2) for `0 < k < N/2`, and the
///   1-D `psi_0 = 1`, `psi_(N/2)(r) = (-1)^r`. For `D_N`, `rho(r, s) = psi_k(r) diag(1, -1)^s` for `0 < k < N/2`;
///   for `k = 0` and `k = N/2` the 1-D irreps multiply by `(-1)^(j s)` with `j = reflection` in `{0, 1}`.
public struct Representation: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        case trivial
        case regular
        case irreducible(frequency: Int, reflection: Int)
    }

    public let group: SymmetryGroup
    public let kind: Kind

    public static func trivial(_ group: SymmetryGroup) -> Representation { Representation(group: group, kind: .trivial) }
    public static func regular(_ group: SymmetryGroup) -> Representation { Representation(group: group, kind: .regular) }
    public static func irreducible(_ group: SymmetryGroup, frequency: Int, reflection: Int = 0) -> Representation {
        precondition(frequency >= 0 && 2 * frequency <= group.rotationOrder,
                     "\(group) has irreducible frequencies 0...\(group.rotationOrder / 2), not \(frequency)")
        precondition(reflection == 0 || reflection == 1, "reflection index must be 0 or 1")
        precondition(group.hasReflections || reflection == 0, "\(group) has no reflection irreps")
        precondition(reflection == 0 || frequency == 0 || 2 * frequency == group.rotationOrder,
                     "2-D irreps of \(group) have no reflection index")
        return Representation(group: group, kind: .irreducible(frequency: frequency, reflection: reflection))
    }

    public init(group: SymmetryGroup, kind: Kind) {
        self.group = group
        self.kind = kind
    }

    /// The dimension `d` (channels per field).
    public var size: Int {
        switch kind {
        case .trivial: return 1
        case .regular: return group.order
        case .irreducible(let k, _): return (k == 0 || 2 * k == group.rotationOrder) ? 1 : 2
        }
    }

    /// Whether `rho(g)` permutes channels (trivial and regular), which makes pointwise non-linearities and
    /// pooling over channels equivariant.
    public var isPermutation: Bool {
        switch kind {
        case .trivial, .regular: return true
        case .irreducible(let k, let j): return k == 0 && j == 0
        }
    }

    public var description: String {
        switch kind {
        case .trivial: return "trivial"
        case .regular: return "regular"
        case .irreducible(let k, let j): return group.hasReflections ? "irrep(\(j),\(k))" : "irrep(\(k))"
        }
    }

    /// `rho(g)` as a row-major `d x d` matrix.
    public func matrix(_ g: GroupElement) -> [Double] {
        let d = size
        switch kind {
        case .trivial:
            return [1]
        case .regular:
            var m = [Double](repeating: 0, count: d * d)
            for h in 0..<d {
                let gh = group.index(of: group.compose(g, group.element(at: h)))
                m[gh * d + h] = 1
            }
            return m
        case .irreducible(let k, let j):
            let s = g.reflected ? 1 : 0
            if d == 1 {
                let rotationSign = k == 0 ? 1.0 : (g.rotation % 2 == 0 ? 1.0 : -1.0)
                return [rotationSign * ((j * s) % 2 == 0 ? 1 : -1)]
            }
            let a = Double(k) * group.angle(of: g)
            let c = Foundation.cos(a), sn = Foundation.sin(a)
            return s == 0 ? [c, -sn, sn, c] : [c, sn, sn, -c]
        }
    }

    /// For permutation representations: `permutation(g)[i]` is the input channel that output channel `i`
    /// reads, so `(rho(g) v)[i] = v[permutation(g)[i]]`.
    public func permutation(_ g: GroupElement) -> [Int] {
        precondition(isPermutation, "\(self) is not a permutation representation")
        if case .regular = kind {
            let inverse = group.inverse(g)
            return (0..<size).map { group.index(of: group.compose(inverse, group.element(at: $0))) }
        }
        return [0]
    }

    /// The character `tr rho(g)`.
    public func character(_ g: GroupElement) -> Double {
        let m = matrix(g), d = size
        return (0..<d).reduce(0) { $0 + m[$1 * d + $1] }
    }

    /// All irreducible representations of a group (the `N/2 + 1` of `C_N`; for `D_N` also the
    /// reflection-odd 1-D ones).
    public static func irreducibles(of group: SymmetryGroup) -> [Representation] {
        var result: [Representation] = []
        for k in 0...(group.rotationOrder / 2) {
            result.append(.irreducible(group, frequency: k))
            if group.hasReflections, k == 0 || 2 * k == group.rotationOrder {
                result.append(.irreducible(group, frequency: k, reflection: 1))
            }
        }
        return result
    }
}
