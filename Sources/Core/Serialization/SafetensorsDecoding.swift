import Foundation

extension Safetensors {
    /// Parses the bytes of a safetensors file. Every length, offset and shape is checked against the buffer
    /// before any element is read, and the tensors must tile the data section exactly (no overlap, no gap,
    /// no trailing bytes), as the reference Rust implementation requires.
    public static func decode(_ data: Data) throws -> Contents {
        let fileSize = data.count
        guard fileSize >= 8 else { throw SafetensorsError.truncated(expectedBytes: 8, actualBytes: fileSize) }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw SafetensorsError.headerLengthBeyondFile(headerLength: headerLength, fileSize: fileSize)
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = fileSize - dataStart
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData, options: [])
        } catch {
            throw SafetensorsError.invalidHeader("not valid JSON (\(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else { throw SafetensorsError.invalidHeader("not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = object["__metadata__"] {
            guard let map = raw as? [String: String] else {
                throw SafetensorsError.invalidHeader("__metadata__ is not a map of strings")
            }
            metadata = map
        }
        var layout: [(key: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in object where key != "__metadata__" {
            layout.append(try parseEntry(key: key, value: value, dataSize: dataSize))
        }
        layout.sort { ($0.begin, $0.end, $0.key) < ($1.begin, $1.end, $1.key) }

        var position = 0
        for (i, entry) in layout.enumerated() {
            if entry.begin < position {
                throw SafetensorsError.overlappingData(key: entry.key, otherKey: layout[i - 1].key)
            }
            if entry.begin > position {
                if entry.end > dataSize {
                    throw SafetensorsError.offsetsOutOfRange(key: entry.key, begin: entry.begin, end: entry.end, dataSize: dataSize)
                }
                throw SafetensorsError.unusedData(offset: position, dataSize: dataSize)
            }
            position = entry.end
        }
        if position > dataSize {
            throw SafetensorsError.truncated(expectedBytes: dataStart + position, actualBytes: fileSize)
        }
        if position < dataSize { throw SafetensorsError.unusedData(offset: position, dataSize: dataSize) }

        var state = StateDict()
        var dtypes: [String: DType] = [:]
        state.entries.reserveCapacity(layout.count)
        data.withUnsafeBytes { raw in
            let section = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
            for entry in layout {
                let bytes = UnsafeRawBufferPointer(rebasing: section[entry.begin..<entry.end])
                state.entries.append((entry.key, Tensor(shape: entry.shape, scalars: convert(bytes, from: entry.dtype))))
                dtypes[entry.key] = entry.dtype
                if entry.dtype == .int64 { state.integerKeys.insert(entry.key) }
            }
        }
        return Contents(state: state, metadata: metadata, dtypes: dtypes)
    }

    /// Validates one header entry in isolation: dtype, shape, and offsets that hold exactly the shape's bytes.
    private static func parseEntry(key: String, value: Any, dataSize: Int) throws
        -> (key: String, dtype: DType, shape: [Int], begin: Int, end: Int)
    {
        guard !key.isEmpty else { throw SafetensorsError.invalidKey(key) }
        guard let info = value as? [String: Any] else { throw SafetensorsError.invalidHeader("entry \(key) is not an object") }
        guard let dtypeName = info["dtype"] as? String else { throw SafetensorsError.invalidHeader("entry \(key) has no dtype") }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafetensorsError.unsupportedDType(key: key, dtype: dtypeName)
        }
        guard let shapeValues = info["shape"] as? [Any] else { throw SafetensorsError.invalidHeader("entry \(key) has no shape") }
        let shape = try shapeValues.map { try exactInteger($0, what: "shape of \(key)") }
        guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2 else {
            throw SafetensorsError.invalidHeader("entry \(key) needs data_offsets [begin, end]")
        }
        let begin = try exactInteger(offsets[0], what: "data_offsets of \(key)")
        let end = try exactInteger(offsets[1], what: "data_offsets of \(key)")
        guard begin <= end else {
            throw SafetensorsError.offsetsOutOfRange(key: key, begin: begin, end: end, dataSize: dataSize)
        }
        // Zero extents are skipped so that a shape like [0, 2^32, 2^32], whose strides overflow, is refused too.
        var nonZeroBytes = dtype.size
        for extent in shape where extent != 0 {
            let (product, overflow) = nonZeroBytes.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw SafetensorsError.sizeMismatch(key: key, shape: shape, dtype: dtypeName, byteCount: end - begin) }
            nonZeroBytes = product
        }
        let byteCount = shape.contains(0) ? 0 : nonZeroBytes
        guard byteCount == end - begin else {
            throw SafetensorsError.sizeMismatch(key: key, shape: shape, dtype: dtypeName, byteCount: end - begin)
        }
        return (key, dtype, shape, begin, end)
    }

    /// A non-negative integer from a JSON number, rejecting strings, fractions and out-of-range values.
    private static func exactInteger(_ value: Any, what: String) throws -> Int {
        guard let number = value as? NSNumber else {
            throw SafetensorsError.invalidHeader("\(what) is not a list of integers")
        }
        let d = number.doubleValue
        guard d >= 0, d < 0x1p62, d == d.rounded(), let i = Int(exactly: number.int64Value), Double(i) == d else {
            throw SafetensorsError.invalidHeader("\(what) holds \(number), not a non-negative integer")
        }
        return i
    }

    /// Little-endian elements of `dtype` converted to Float (round to nearest for F64 and I64).
    static func convert(_ bytes: UnsafeRawBufferPointer, from dtype: DType) -> [Float] {
        let n = bytes.count / dtype.size
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            switch dtype {
            case .float32:
                for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .float64:
                for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
            case .int64:
                for i in 0..<n { out[i] = Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            case .bfloat16:
                for i in 0..<n {
                    out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                }
            case .float16:
                for i in 0..<n { out[i] = halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
            }
            initialized = n
        }
    }

    /// IEEE 754 binary16 to binary32, exact for every input (subnormals, infinities and NaN payloads included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h) & 0x3FF
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}
