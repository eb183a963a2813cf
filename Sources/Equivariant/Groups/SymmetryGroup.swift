import Foundation

/// An element of a planar symmetry group: `R(rotation * 2 pi / N) * F^reflection`, where `F` is the
/// reflection `(x, y) -> (x, -y)` (a top-bottom flip of a displayed image; it maps the angle `phi` to `-phi`).
/// Acting on the plane, the element first reflects (if `reflected`) and then rotates counterclockwise.
public struct GroupElement: Hashable, Sendable, CustomStringConvertible {
    /// The rotation index `r` in `0..<N`: the angle is `2 pi r / N`.
    public var rotation: Int
    /// Whether the element contains the reflection `F`.
    public var reflected: Bool

    public init(rotation: Int, reflected: Bool = false) {
        self.rotation = rotation
        self.reflected = reflected
    }

    public var description: String { reflected ? "r\(rotation)f" : "r\(rotation)" }
}

/// The cyclic group `C_N` (rotations by multiples of `2 pi / N`) or the dihedral group `D_N` (those rotations
/// and the reflections), the symmetry groups of steerable CNNs: Cohen & Welling, "Steerable CNNs", ICLR 2017;
/// Weiler & Cesa, "General E(2)-Equivariant Steerable CNNs", NeurIPS 2019.
///
/// Only group maths lives here (no tensors). Elements are indexed `reflection * N + rotation`, which is also
/// the channel order of the regular representation.
public struct SymmetryGroup: Hashable, Sendable, CustomStringConvertible {
    /// `N`, the number of rotations.
    public let rotationOrder: Int
    /// Whether the group contains reflections (`D_N`).
    public let hasReflections: Bool

    /// The cyclic group `C_N`, `N >= 1`.
    public static func cyclic(_ n: Int) -> SymmetryGroup { SymmetryGroup(rotationOrder: n, hasReflections: false) }
    /// The dihedral group `D_N`, `N >= 1`, of order `2N`.
    public static func dihedral(_ n: Int) -> SymmetryGroup { SymmetryGroup(rotationOrder: n, hasReflections: true) }

    public init(rotationOrder: Int, hasReflections: Bool) {
        precondition(rotationOrder >= 1, "a rotation group needs N >= 1, got \(rotationOrder)")
        self.rotationOrder = rotationOrder
        self.hasReflections = hasReflections
    }

    /// Parses `"C8"`, `"c4"`, `"D4"`; nil for anything else.
    public init?(name: String) {
        let upper = name.uppercased()
        guard let first = upper.first, first == "C" || first == "D", let n = Int(upper.dropFirst()), n >= 1 else { return nil }
        self.init(rotationOrder: n, hasReflections: first == "D")
    }

    /// `"C8"` or `"D4"`.
    public var description: String { (hasReflections ? "D" : "C") + "\(rotationOrder)" }

    /// Number of elements: `N` or `2N`.
    public var order: Int { hasReflections ? 2 * rotationOrder : rotationOrder }

    /// All elements in index order.
    public var elements: [GroupElement] { (0..<order).map(element(at:)) }

    /// The identity element.
    public var identity: GroupElement { GroupElement(rotation: 0) }

    /// The element with the given index (`reflection * N + rotation`).
    public func element(at index: Int) -> GroupElement {
        precondition(index >= 0 && index < order, "\(self) has no element \(index)")
        return GroupElement(rotation: index % rotationOrder, reflected: index >= rotationOrder)
    }

    /// The index of an element.
    public func index(of g: GroupElement) -> Int {
        precondition(!g.reflected || hasReflections, "\(g) is not in \(self)")
        return (g.reflected ? rotationOrder : 0) + mod(g.rotation)
    }

    /// The product `a * b` (apply `b` first): `R_a F^sa R_b F^sb = R_(a + (-1)^sa b) F^(sa + sb)`.
    public func compose(_ a: GroupElement, _ b: GroupElement) -> GroupElement {
        GroupElement(rotation: mod(a.rotation + (a.reflected ? -b.rotation : b.rotation)), reflected: a.reflected != b.reflected)
    }

    /// The inverse element.
    public func inverse(_ g: GroupElement) -> GroupElement {
        g.reflected ? GroupElement(rotation: mod(g.rotation), reflected: true) : GroupElement(rotation: mod(-g.rotation))
    }

    /// The rotation angle of an element in radians, counterclockwise.
    public func angle(of g: GroupElement) -> Double { 2 * Double.pi * Double(mod(g.rotation)) / Double(rotationOrder) }

    /// The rotation generator `r1` (angle `2 pi / N`).
    public var generator: GroupElement { GroupElement(rotation: 1 % rotationOrder) }

    /// The element rotating by `quarterTurns * 90` degrees, if the group contains it (`N` divisible by 4,
    /// or the multiple lands on a group rotation).
    public func quarterTurn(_ quarterTurns: Int) -> GroupElement? {
        let numerator = quarterTurns * rotationOrder
        guard numerator % 4 == 0 else { return nil }
        return GroupElement(rotation: mod(numerator / 4))
    }

    func mod(_ r: Int) -> Int { ((r % rotationOrder) + rotationOrder) % rotationOrder }
}
