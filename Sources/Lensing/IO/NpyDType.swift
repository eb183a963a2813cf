/// The element types the `.npy` reader understands, after NumPy's `descr` strings.
public enum NpyScalarKind: String, Sendable, CaseIterable {
    case float32 = "f4", float64 = "f8", int64 = "i8", int32 = "i4", uint8 = "u1", bool = "b1"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8, .bool: return 1
        }
    }

    /// Whether values are integers (bool counts as integer: 0 and 1).
    public var isInteger: Bool { self != .float32 && self != .float64 }
}

/// A NumPy dtype descriptor: element kind and byte order (`<f4`, `>f8`, `|u1`, ...).
public struct NpyDType: Equatable, Sendable, CustomStringConvertible {
    public let kind: NpyScalarKind
    /// True for `>` (big-endian) data; one-byte types are never swapped.
    public let isBigEndian: Bool

    public init(kind: NpyScalarKind, isBigEndian: Bool = false) {
        self.kind = kind
        self.isBigEndian = kind.byteCount == 1 ? false : isBigEndian
    }

    /// Parses a `descr` string. Accepts the byte-order marks `<`, `>`, `|` (one-byte types only) and `=`
    /// (native, little-endian on every platform this package supports).
    public init?(descr: String) {
        guard descr.count == 3, let order = descr.first,
              let kind = NpyScalarKind(rawValue: String(descr.dropFirst())) else { return nil }
        switch order {
        case "<", "=": self.init(kind: kind, isBigEndian: false)
        case ">": self.init(kind: kind, isBigEndian: true)
        case "|" where kind.byteCount == 1: self.init(kind: kind)
        default: return nil
        }
    }

    /// The canonical NumPy spelling (`|` for one-byte types).
    public var descr: String {
        (kind.byteCount == 1 ? "|" : (isBigEndian ? ">" : "<")) + kind.rawValue
    }

    public var description: String { descr }
}
