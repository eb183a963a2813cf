import Core
import Foundation

/// A memory-mapped `.npy` array, read lazily: nothing but the header is touched until items are requested.
///
/// An *item* is one slice along the leading axis (one image of an `(N, 1, H, W)` file, one label of an `(N,)`
/// file). Reads convert any supported dtype and byte order to the requested Swift type and always return
/// items in C (row-major) order, whatever the file's `fortran_order`, so an `(N, H, W)` image file yields
/// `H * W` row-major floats per item. The file stays mapped while the array is alive.
public final class NpyArray: @unchecked Sendable {
    /// Path of the file.
    public let path: String
    /// The array shape from the header.
    public let shape: [Int]
    /// The stored element type.
    public let dtype: NpyDType
    /// Whether the data is stored in Fortran (column-major) order.
    public let isFortranOrder: Bool
    /// The format version, `"1.0"`, `"2.0"` or `"3.0"`.
    public let formatVersion: String
    /// Total number of elements (1 for a 0-d array).
    public let elementCount: Int
    /// Extent of the leading axis (1 for a 0-d array).
    public let itemCount: Int
    /// Elements in one item: the product of the trailing extents.
    public let elementsPerItem: Int

    private let file: MappedFile
    private let dataOffset: Int
    /// For Fortran order: the column-major offset, in units of `itemCount`, of each C-order element of an item.
    private let fortranOffsets: [Int]?

    /// Maps and validates the file at `url` (header, dtype, data size).
    public convenience init(contentsOf url: URL) throws { try self.init(path: url.path) }

    /// Maps and validates the file at `path` (header, dtype, data size).
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let header = try NpyHeader.parse(file.bytes, file: path)
        guard let dtype = NpyDType(descr: header.descr) else {
            let descr = header.descr.count > PythonLiteral.maximumTextLength
                ? String(header.descr.prefix(PythonLiteral.maximumTextLength - 3)) + "..." : header.descr
            throw NpyError(file: path, reason: .unsupportedDType(descr))
        }
        self.dtype = dtype
        shape = header.shape
        isFortranOrder = header.fortranOrder
        formatVersion = "\(header.major).\(header.minor)"
        dataOffset = header.dataOffset
        guard let count = NpyArray.product(shape) else {
            throw NpyError(file: path, reason: .malformedHeader("shape \(NpyArray.shapeText(shape)) has more elements than fit in memory"))
        }
        elementCount = count
        itemCount = shape.first ?? 1
        guard let perItem = NpyArray.product(shape.dropFirst()) else {
            throw NpyError(file: path, reason: .malformedHeader("shape \(NpyArray.shapeText(shape)) has more elements per item than fit in memory"))
        }
        elementsPerItem = perItem
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.kind.byteCount)
        let available = file.size - dataOffset
        guard !overflow, expected <= available else {
            throw NpyError(file: path, reason: .truncatedData(expectedBytes: overflow ? Int.max : expected, actualBytes: available))
        }
        guard expected == available else {
            throw NpyError(file: path, reason: .trailingData(expectedBytes: expected, actualBytes: available))
        }
        // Only arrays with data need the offsets; their item then has at most as many elements as the file has bytes.
        fortranOffsets = header.fortranOrder && shape.count > 1 && count > 0
            ? NpyArray.columnMajorOffsets(Array(shape.dropFirst())) : nil
    }

    /// The product of `extents`, or nil when it overflows `Int`.
    private static func product<C: Collection>(_ extents: C) -> Int? where C.Element == Int {
        var result = 1
        for extent in extents {
            let (next, overflow) = result.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// The shape as NumPy prints it, e.g. `(0, 4294967296, 4294967296)`.
    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Column-major offsets of the C-order elements of an array of `shape`.
    private static func columnMajorOffsets(_ shape: [Int]) -> [Int] {
        let n = shape.reduce(1, *)
        var fortranStrides = [Int](repeating: 1, count: shape.count)
        for k in shape.indices.dropFirst() { fortranStrides[k] = fortranStrides[k - 1] * shape[k - 1] }
        var offsets = [Int](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for j in 0..<n {
            offsets[j] = offset
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1
                offset += fortranStrides[k]
                if index[k] < shape[k] { break }
                offset -= fortranStrides[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
        return offsets
    }

    // MARK: Reading

    /// Copies the given items, converted to float32, one after another in C order into `destination`
    /// (`items.count * elementsPerItem` floats).
    public func copyFloats(items: [Int], into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(destination.count >= items.count * elementsPerItem, "copyFloats: destination too small")
        checkItems(items)
        guard let out = destination.baseAddress, elementCount > 0 else { return }
        if dtype == NpyDType(kind: .float32), fortranOffsets == nil {
            let source = file.base! + dataOffset
            let bytes = elementsPerItem * 4
            for (k, i) in items.enumerated() {
                UnsafeMutableRawPointer(out + k * elementsPerItem).copyMemory(from: source + i * bytes, byteCount: bytes)
            }
            return
        }
        gather(items, into: out, { $0 }, { Float($0) }, { Float($0) })
    }

    /// The given items converted to float32, concatenated in C order.
    public func floats(items: [Int]) -> [Float] {
        [Float](unsafeUninitializedCapacity: items.count * elementsPerItem) { buffer, initialized in
            copyFloats(items: items, into: buffer)
            initialized = items.count * elementsPerItem
        }
    }

    /// The items in `range` converted to float32, concatenated in C order.
    public func floats(items range: Range<Int>) -> [Float] { floats(items: Array(range)) }

    /// All elements converted to float32 in C order.
    public func floats() -> [Float] { floats(items: 0..<itemCount) }

    /// The first item holding a NaN or an infinity once converted to float32, with that value; nil when every
    /// element is finite (always for integer and bool dtypes). Reads the file once, a few thousand items at a time.
    public func firstNonFiniteFloat() -> (item: Int, value: Float)? {
        guard dtype.kind == .float32 || dtype.kind == .float64, elementCount > 0 else { return nil }
        let chunk = max(1, (1 << 20) / max(1, elementsPerItem))
        for start in stride(from: 0, to: itemCount, by: chunk) {
            let values = floats(items: start..<min(itemCount, start + chunk))
            if values.withUnsafeBufferPointer(allFinite) { continue }
            let index = values.firstIndex(where: { !$0.isFinite })!
            return (start + index / elementsPerItem, values[index])
        }
        return nil
    }

    /// The items in `range` converted to double in C order (exact for every supported dtype but `<i8` beyond 2^53).
    public func doubles(items range: Range<Int>) -> [Double] {
        let items = Array(range)
        checkItems(items)
        return [Double](unsafeUninitializedCapacity: items.count * elementsPerItem) { buffer, initialized in
            if let out = buffer.baseAddress, elementCount > 0 { gather(items, into: out, { Double($0) }, { $0 }, { Double($0) }) }
            initialized = items.count * elementsPerItem
        }
    }

    /// The items in `range` as 64-bit integers in C order; only for integer and bool dtypes.
    public func int64s(items range: Range<Int>) -> [Int64] {
        precondition(dtype.kind.isInteger, "int64s: \(path) holds \(dtype), not integers")
        let items = Array(range)
        checkItems(items)
        return [Int64](unsafeUninitializedCapacity: items.count * elementsPerItem) { buffer, initialized in
            if let out = buffer.baseAddress, elementCount > 0 { gather(items, into: out, { Int64($0) }, { Int64($0) }, { $0 }) }
            initialized = items.count * elementsPerItem
        }
    }

    private func checkItems(_ items: [Int]) {
        for i in items { precondition(i >= 0 && i < itemCount, "item \(i) out of range 0..<\(itemCount) in \(path)") }
    }

    /// Walks the raw element index of every requested element in output order.
    @inline(__always)
    private func walk(_ items: [Int], _ body: (_ output: Int, _ raw: Int) -> Void) {
        let per = elementsPerItem, n = itemCount
        var o = 0
        if let fortranOffsets {
            fortranOffsets.withUnsafeBufferPointer { offsets in
                for i in items { for j in 0..<per { body(o, i + n * offsets[j]); o += 1 } }
            }
        } else {
            for i in items {
                let start = i * per
                for j in 0..<per { body(o, start + j); o += 1 }
            }
        }
    }

    /// Converts the requested elements with one of three widening conversions chosen by the stored kind.
    @inline(__always)
    private func gather<T>(
        _ items: [Int], into out: UnsafeMutablePointer<T>,
        _ fromFloat: (Float) -> T, _ fromDouble: (Double) -> T, _ fromInt: (Int64) -> T
    ) {
        let base = file.base! + dataOffset
        let swap = dtype.isBigEndian
        switch dtype.kind {
        case .float32:
            walk(items) { o, r in
                let bits = base.loadUnaligned(fromByteOffset: r * 4, as: UInt32.self)
                out[o] = fromFloat(Float(bitPattern: swap ? bits.byteSwapped : bits))
            }
        case .float64:
            walk(items) { o, r in
                let bits = base.loadUnaligned(fromByteOffset: r * 8, as: UInt64.self)
                out[o] = fromDouble(Double(bitPattern: swap ? bits.byteSwapped : bits))
            }
        case .int64:
            walk(items) { o, r in
                let bits = base.loadUnaligned(fromByteOffset: r * 8, as: Int64.self)
                out[o] = fromInt(swap ? bits.byteSwapped : bits)
            }
        case .int32:
            walk(items) { o, r in
                let bits = base.loadUnaligned(fromByteOffset: r * 4, as: Int32.self)
                out[o] = fromInt(Int64(swap ? bits.byteSwapped : bits))
            }
        case .uint8:
            walk(items) { o, r in out[o] = fromInt(Int64(base.load(fromByteOffset: r, as: UInt8.self))) }
        case .bool:
            walk(items) { o, r in out[o] = fromInt(base.load(fromByteOffset: r, as: UInt8.self) != 0 ? 1 : 0) }
        }
    }
}
