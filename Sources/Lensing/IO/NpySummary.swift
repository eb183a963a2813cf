import Foundation

/// Statistics of a whole `.npy` array, computed in one streaming pass over the memory-mapped data.
public struct NpySummary: Equatable, Sendable {
    public let path: String
    public let shape: [Int]
    public let dtype: NpyDType
    public let fortranOrder: Bool
    public let formatVersion: String
    /// Smallest and largest value ignoring NaN; nil when there is none.
    public let min: Double?
    public let max: Double?
    /// Mean of the non-NaN values; nil when there is none.
    public let mean: Double?
    /// Number of NaN elements (float dtypes).
    public let nanCount: Int
    /// Occurrences of each value for integer and bool dtypes, when there are at most `maximumDistinctCounts`
    /// distinct values; nil otherwise.
    public let counts: [Int64: Int]?

    /// Most distinct values reported in `counts`.
    public static let maximumDistinctCounts = 1024

    /// Scans `array` in chunks of about a million elements.
    public init(_ array: NpyArray) {
        path = array.path
        shape = array.shape
        dtype = array.dtype
        fortranOrder = array.isFortranOrder
        formatVersion = array.formatVersion
        let chunk = Swift.max(1, (1 << 20) / Swift.max(1, array.elementsPerItem))
        var low = Double.infinity, high = -Double.infinity, sum = 0.0, seen = 0, nans = 0
        var tally: [Int64: Int]? = array.dtype.kind.isInteger ? [:] : nil
        var start = 0
        while start < array.itemCount, array.elementCount > 0 {
            let range = start..<Swift.min(array.itemCount, start + chunk)
            if array.dtype.kind.isInteger {
                for v in array.int64s(items: range) {
                    let d = Double(v)
                    low = Swift.min(low, d); high = Swift.max(high, d); sum += d
                    if tally != nil {
                        tally![v, default: 0] += 1
                        if tally!.count > NpySummary.maximumDistinctCounts { tally = nil }
                    }
                }
                seen += range.count * array.elementsPerItem
            } else {
                for d in array.doubles(items: range) {
                    if d.isNaN { nans += 1; continue }
                    low = Swift.min(low, d); high = Swift.max(high, d); sum += d; seen += 1
                }
            }
            start = range.upperBound
        }
        min = seen > 0 ? low : nil
        max = seen > 0 ? high : nil
        mean = seen > 0 ? sum / Double(seen) : nil
        nanCount = nans
        counts = tally
    }

    /// One JSON object: `path`, `shape`, `dtype`, `fortran_order`, `format_version`, `min`, `max`, `mean`,
    /// `nan_count` (float arrays), `counts` (integer arrays: value -> occurrences, keys in increasing order;
    /// `null` when there are too many distinct values). JSON has no infinities or NaN: they are written as the
    /// strings `"inf"`, `"-inf"` and `"nan"` (the spelling NumPy prints), and a missing value as `null`.
    public var json: String {
        var fields: [(String, String)] = [
            ("path", quoted(path)),
            ("shape", "[" + shape.map(String.init).joined(separator: ", ") + "]"),
            ("dtype", quoted(dtype.descr)),
            ("fortran_order", fortranOrder ? "true" : "false"),
            ("format_version", quoted(formatVersion)),
            ("min", number(min, asStored: true)), ("max", number(max, asStored: true)), ("mean", number(mean)),
        ]
        if dtype.kind.isInteger {
            let body = counts.map { c in
                "{" + c.keys.sorted().map { "\(quoted(String($0))): \(c[$0]!)" }.joined(separator: ", ") + "}"
            }
            fields.append(("counts", body ?? "null"))
        } else {
            fields.append(("nan_count", String(nanCount)))
        }
        return "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// Shortest round-trip text; `asStored` prints float32 data as float32 (`0.99999994`, not `0.9999999403953552`).
    private func number(_ value: Double?, asStored: Bool = false) -> String {
        guard let value else { return "null" }
        guard value.isFinite else { return value.isNaN ? "\"nan\"" : (value < 0 ? "\"-inf\"" : "\"inf\"") }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return asStored && dtype.kind == .float32 ? "\(Float(value))" : "\(value)"
    }

    private func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
