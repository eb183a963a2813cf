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
/// elements arrived.
public final class NpyStreamWriter {
    /// Path being written.
    public let path: String
    /// Element type: `.float32` (`<f4`) or `.int64` (`<i8`).
    public let kind: NpyScalarKind
    /// Shape promised in the header.
    public let shape: [Int]
    /// Elements written so far.
    public private(set) var written = 0
    private let handle: FileHandle
    private let expected: Int

    /// Creates (or truncates) the file and writes the header.
    public init(url: URL, kind: NpyScalarKind, shape: [Int]) throws {
        precondition(kind == .float32 || kind == .int64, "NpyStreamWriter writes float32 or int64, not \(kind)")
        path = url.path
        self.kind = kind
        self.shape = shape
        expected = shape.reduce(1, *)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw NpyError(file: path, reason: .writeFailed("cannot create file"))
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw NpyError(file: path, reason: .writeFailed("\(error)"))
        }
        let header = NpyHeader.encode(descr: NpyDType(kind: kind).descr, fortranOrder: false, shape: shape)
        try write(Data(header))
    }

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

    /// Closes the file; throws if the element count differs from the shape.
    public func finish() throws {
        try? handle.close()
        guard written == expected else {
            throw NpyError(file: path, reason: .writeFailed("wrote \(written) elements, shape \(shape) needs \(expected)"))
        }
    }

    private func appendRaw<T>(_ values: [T]) throws {
        guard written + values.count <= expected else {
            throw NpyError(file: path, reason: .writeFailed("more than \(expected) elements for shape \(shape)"))
        }
        try values.withUnsafeBytes { try write(Data($0)) }
        written += values.count
    }

    private func write(_ data: Data) throws {
        do { try handle.write(contentsOf: data) } catch {
            throw NpyError(file: path, reason: .writeFailed("\(error)"))
        }
    }
}
