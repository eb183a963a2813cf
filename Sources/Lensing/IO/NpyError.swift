import Foundation

/// An error reading or validating a NumPy `.npy` file or a DeepLense data set; it always names the file.
public struct NpyError: Error, Equatable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Reason: Equatable, Sendable {
        /// The file could not be opened or mapped (`errno` text).
        case cannotOpen(String)
        /// The path names a FIFO, device, socket or directory; it is refused before opening, which could block.
        case notARegularFile
        /// The file does not start with the six bytes `\x93NUMPY`.
        case badMagic
        /// The format version is not 1.0, 2.0 or 3.0.
        case unsupportedVersion(major: UInt8, minor: UInt8)
        /// The header length field points past the end of the file, or the header dictionary does not end
        /// within the declared length: the header lies about its size.
        case headerSizeMismatch(declared: Int, available: Int)
        /// The header dictionary is not the Python literal NumPy writes (missing or unknown key, bad syntax).
        case malformedHeader(String)
        /// Something other than padding or a comment follows the header dictionary (quoted excerpt); either
        /// stray text, or a header length field that reaches into the data.
        case textAfterHeader(String)
        /// The `descr` is not one of `<f4 <f8 >f4 >f8 <i8 <i4 |u1 |b1` (or their byte-order variants).
        case unsupportedDType(String)
        /// Fewer data bytes follow the header than the shape and dtype need.
        case truncatedData(expectedBytes: Int, actualBytes: Int)
        /// More data bytes follow the header than the shape and dtype need.
        case trailingData(expectedBytes: Int, actualBytes: Int)
        /// The array shape is not the one this use needs (`expected` says which shapes are accepted).
        case unsupportedShape([Int], expected: String)
        /// The label file holds a different number of labels than the image file holds images.
        case labelCountMismatch(images: Int, labels: Int)
        /// A label is outside `0..<classCount`.
        case labelOutOfRange(index: Int, value: Int64, classCount: Int)
        /// A label stored as a float is not an integer.
        case nonIntegerLabel(index: Int, value: Double)
        /// An image holds a NaN or an infinity (after conversion to float32): `image` is its index along the first
        /// axis, `value` the offending value as text.
        case nonFinitePixel(image: Int, value: String)
        /// A write failed.
        case writeFailed(String)
        /// The file system lacks the space a write needs (bytes needed, bytes available).
        case insufficientSpace(neededBytes: Int, availableBytes: Int)
    }

    /// Path of the offending file.
    public let file: String
    /// What is wrong.
    public let reason: Reason

    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .cannotOpen(let message): what = "cannot open: \(message)"
        case .notARegularFile: what = "is not a regular file"
        case .badMagic: what = "not a .npy file (bad magic bytes)"
        case .unsupportedVersion(let major, let minor): what = "unsupported .npy format version \(major).\(minor)"
        case .headerSizeMismatch(let declared, let available):
            what = "header lies about its size (declares \(declared) bytes, \(available) usable)"
        case .malformedHeader(let message): what = "malformed header: \(message)"
        case .textAfterHeader(let excerpt):
            what = "unexpected text \(excerpt) after the header dictionary (stray text, or a header length that reaches into the data)"
        case .unsupportedDType(let descr): what = "unsupported dtype '\(descr)' (supported: <f4 <f8 >f4 >f8 <i8 <i4 |u1 |b1)"
        case .truncatedData(let expected, let actual):
            what = "truncated data: shape needs \(expected) bytes, file has \(actual)"
        case .trailingData(let expected, let actual):
            what = "data size mismatch: shape needs \(expected) bytes, file has \(actual)"
        case .unsupportedShape(let shape, let expected): what = "shape \(shape) not supported, expected \(expected)"
        case .labelCountMismatch(let images, let labels): what = "\(labels) labels for \(images) images"
        case .labelOutOfRange(let index, let value, let classCount):
            what = "label \(value) at index \(index) is outside 0..<\(classCount)"
        case .nonIntegerLabel(let index, let value): what = "label \(value) at index \(index) is not an integer"
        case .nonFinitePixel(let image, let value):
            what = "image \(image) (counting from 0) holds a pixel value \(value); images must hold finite numbers"
        case .writeFailed(let message): what = "write failed: \(message)"
        case .insufficientSpace(let needed, let available):
            what = "not enough free space: needs \(Self.byteText(needed)), \(Self.byteText(available)) available"
        }
        return "\(file): \(what)"
    }

    /// A byte count for people: `512 B`, `8.4 MB`, `164.2 GB` (powers of 1000).
    static func byteText(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }
}
