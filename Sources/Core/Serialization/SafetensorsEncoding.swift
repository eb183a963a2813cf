import Foundation

extension Safetensors {
    /// The bytes of a safetensors file holding `state` (F32, or I64 for `integerKeys`) and `metadata`.
    /// The header is padded with spaces to a multiple of 8 bytes so the data section is aligned.
    public static func encode(_ state: StateDict, metadata: [String: String] = [:]) throws -> Data {
        var seen = Set<String>()
        for key in state.keys {
            guard !key.isEmpty, key != "__metadata__", seen.insert(key).inserted else {
                throw SafetensorsError.invalidKey(key)
            }
        }
        var header = "{"
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            header += "\"__metadata__\":{\(pairs.joined(separator: ","))}"
        }
        var offset = 0
        for (i, (key, tensor)) in state.entries.enumerated() {
            let dtype: DType = state.integerKeys.contains(key) ? .int64 : .float32
            let end = offset + tensor.count * dtype.size
            if i > 0 || !metadata.isEmpty { header += "," }
            header += "\(jsonString(key)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (key, tensor) in state.entries {
            if state.integerKeys.contains(key) {
                let values = tensor.scalars.map { Int64($0.rounded()).littleEndian }
                values.withUnsafeBytes { out.append(contentsOf: $0) }
            } else {
                let bits = tensor.scalars.map { $0.bitPattern.littleEndian }
                bits.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
