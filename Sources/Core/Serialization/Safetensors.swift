import Foundation

/// Reading and writing state dicts in the safetensors format (Hugging Face), which PyTorch users load with
/// `safetensors.torch.load_file`.
///
/// Layout: an 8-byte little-endian unsigned header length `N`; `N` bytes of UTF-8 JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section) plus an
/// optional `"__metadata__"` string-to-string map; then the raw little-endian, row-major tensor data.
///
/// Written: F32 for every tensor, I64 for the keys in `StateDict.integerKeys` (`num_batches_tracked`,
/// optimizer step counts), so a BatchNorm state loads in PyTorch with its own dtypes. Read: F32, F16, BF16, F64
/// and I64, converted to Float (I64 keys are marked in `integerKeys`, so a read-write round trip keeps them I64).
/// Parsing is bounds-checked throughout: malformed input throws a `SafetensorsError`, never traps.
public enum Safetensors {
    /// Element types this reader understands, with their safetensors names.
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "F32", float16 = "F16", bfloat16 = "BF16", float64 = "F64", int64 = "I64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .float32: return 4
            case .float16, .bfloat16: return 2
            case .float64, .int64: return 8
            }
        }
    }

    /// The state dict and metadata of one safetensors file.
    public struct Contents: Sendable {
        public var state: StateDict
        public var metadata: [String: String]
        /// Each tensor's stored element type.
        public var dtypes: [String: DType]
    }

    /// Writes `state` atomically (`AtomicFile`): the bytes go to a temporary file in the same directory, which is
    /// flushed to disk (`fsync`) and then renamed over `url`, so readers never see a partial file.
    public static func write(_ state: StateDict, to url: URL, metadata: [String: String] = [:]) throws {
        let bytes = try encode(state, metadata: metadata)
        do {
            try AtomicFile.write(bytes, to: url)
        } catch {
            throw SafetensorsError.io(error.description)
        }
    }

    /// Reads the tensors of a safetensors file as Float tensors.
    public static func read(from url: URL) throws -> StateDict { try readContents(from: url).state }

    /// Reads tensors, metadata and stored dtypes.
    public static func readContents(from url: URL) throws -> Contents {
        if let problem = FilePreflight.readProblem(path: url.path) {
            throw SafetensorsError.io("cannot read \(url.path): \(problem)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafetensorsError.io("cannot read \(url.path): \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        return try decode(data)
    }
}

/// Why a safetensors file could not be read or written.
public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    /// The file ends before the 8-byte header length, or before the data its header describes.
    case truncated(expectedBytes: Int, actualBytes: Int)
    /// The header length field points past the end of the file.
    case headerLengthBeyondFile(headerLength: UInt64, fileSize: Int)
    /// The header is not a JSON object of well-formed entries.
    case invalidHeader(String)
    /// A tensor's dtype is not one this reader converts (or is not a dtype at all).
    case unsupportedDType(key: String, dtype: String)
    /// A tensor's data offsets are not `[begin, end]` with `0 <= begin <= end`, or lie outside the data section.
    case offsetsOutOfRange(key: String, begin: Int, end: Int, dataSize: Int)
    /// A tensor's byte range does not hold `shape.product * dtype.size` bytes.
    case sizeMismatch(key: String, shape: [Int], dtype: String, byteCount: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingData(key: String, otherKey: String)
    /// Bytes of the data section belong to no tensor (a gap, or trailing bytes).
    case unusedData(offset: Int, dataSize: Int)
    /// A key is empty, repeated, or the reserved `__metadata__`.
    case invalidKey(String)
    /// Reading or writing the file failed.
    case io(String)

    public var description: String {
        switch self {
        case let .truncated(expected, actual):
            return "safetensors file truncated: needs \(expected) bytes, has \(actual)"
        case let .headerLengthBeyondFile(length, size):
            return "safetensors header length \(length) exceeds the \(size)-byte file"
        case .invalidHeader(let why): return "invalid safetensors header: \(why)"
        case let .unsupportedDType(key, dtype): return "tensor \(key) has unsupported dtype \(dtype)"
        case let .offsetsOutOfRange(key, begin, end, size):
            return "tensor \(key) has data offsets [\(begin), \(end)] outside the \(size)-byte data section"
        case let .sizeMismatch(key, shape, dtype, count):
            return "tensor \(key) of shape \(shape) and dtype \(dtype) cannot occupy \(count) bytes"
        case let .overlappingData(key, other): return "tensors \(key) and \(other) overlap"
        case let .unusedData(offset, size): return "bytes from \(offset) of the \(size)-byte data section belong to no tensor"
        case .invalidKey(let key): return "invalid or repeated tensor key \"\(key)\""
        case .io(let why): return why
        }
    }
}
