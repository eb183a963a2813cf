import Core
import Foundation

/// Reading and writing NumPy `.npy` files (format 1.0 for writing; 1.0, 2.0 and 3.0 for reading).
public enum NpyFile {
    /// Opens `url` memory-mapped and validates it; see `NpyArray`.
    public static func read(_ url: URL) throws -> NpyArray { try NpyArray(contentsOf: url) }

    /// Writes a little-endian float32 array (`<f4`, C order, format 1.0).
    public static func write(float32 shape: [Int], scalars: [Float], to url: URL) throws {
        let writer = try NpyStreamWriter(url: url, kind: .float32, shape: shape)
        try writer.append(floats: scalars)
        try writer.finish()
    }

    /// Writes a little-endian int64 array (`<i8`, C order, format 1.0), the dtype NumPy gives integer labels.
    public static func write(int64 shape: [Int], values: [Int64], to url: URL) throws {
        let writer = try NpyStreamWriter(url: url, kind: .int64, shape: shape)
        try writer.append(int64s: values)
        try writer.finish()
    }

    /// Writes a float32 tensor with its own shape.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(float32: tensor.shape, scalars: tensor.scalars, to: url)
    }
}

/// Writes a `.npy` file in pieces, so arrays larger than memory (a 30,000-image training set is 2.7 GB) can be
/// produced chunk by chunk. The header is written first; `finish()` checks that exactly the promised number of
/// elements arrived. Errors carry the system's reason (`No space left on device`), not a Foundation error dump.
public final class NpyStreamWriter {
    /// Path being written.
    public let path: String
    /// Element type: `.float32` (`<f4`) or `.int64` (`<i8`).
    public let kind: NpyScalarKind
    /// Shape promised in the header.
    public let shape: [Int]
    /// Elements written so far.
    public private(set) var written = 0
    private var descriptor: Int32
    private let expected: Int

    /// Creates (or truncates) the file and writes the header.
    public init(url: URL, kind: NpyScalarKind, shape: [Int]) throws {
        precondition(kind == .float32 || kind == .int64, "NpyStreamWriter writes float32 or int64, not \(kind)")
        path = url.path
        self.kind = kind
        self.shape = shape
        expected = shape.reduce(1, *)
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw NpyError(file: path, reason: .writeFailed(String(cString: strerror(errno)))) }
        let header = NpyHeader.encode(descr: NpyDType(kind: kind).descr, fortranOrder: false, shape: shape)
        try header.withUnsafeBytes { try write($0) }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Appends float32 elements (C order).
    public func append(floats values: [Float]) throws {
        precondition(kind == .float32, "appending Float to a \(kind) file")
        try appendRaw(values)
    }

    /// Appends int64 elements (C order).
    public func append(int64s values: [Int64]) throws {
        precondition(kind == .int64, "appending Int64 to a \(kind) file")
        try appendRaw(values)
    }

    /// Closes the file, after flushing it to disk (`fsync`) if `flushToDisk`; throws if the element count differs
    /// from the shape.
    public func finish(flushToDisk: Bool = false) throws {
        guard descriptor >= 0 else { return }
        let synced = !flushToDisk || fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
        let closed = close(descriptor) == 0 ? nil : String(cString: strerror(errno))
        descriptor = -1
        if let failure = synced ?? closed { throw NpyError(file: path, reason: .writeFailed(failure)) }
        guard written == expected else {
            throw NpyError(file: path, reason: .writeFailed("wrote \(written) elements, shape \(shape) needs \(expected)"))
        }
    }

    private func appendRaw<T>(_ values: [T]) throws {
        guard written + values.count <= expected else {
            throw NpyError(file: path, reason: .writeFailed("more than \(expected) elements for shape \(shape)"))
        }
        try values.withUnsafeBytes { try write($0) }
        written += values.count
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { throw NpyError(file: path, reason: .writeFailed("file already closed")) }
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw NpyError(file: path, reason: .writeFailed(String(cString: strerror(errno)))) }
            offset += n
        }
    }
}
