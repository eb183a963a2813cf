import Core
import Foundation

/// Which half of a DeepLense data set.
public enum DataSplit: String, CaseIterable, Sendable {
    case train, test
}

/// A problem locating a data set in a directory (file-level problems are `NpyError`s).
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The directory holds no `<prefix>_<split>_data.npy` with its labels file.
    case noDataSet(directory: String, split: DataSplit)
    /// More than one prefix qualifies; pass `prefix:` to choose.
    case ambiguousPrefix(directory: String, split: DataSplit, candidates: [String])

    public var description: String {
        switch self {
        case .noDataSet(let directory, let split):
            return "\(directory): no <prefix>_\(split.rawValue)_data.npy with <prefix>_\(split.rawValue)_labels.npy"
        case .ambiguousPrefix(let directory, let split, let candidates):
            return "\(directory): several \(split.rawValue) data sets (prefixes \(candidates.joined(separator: ", "))); choose one with a prefix"
        }
    }
}

/// A labelled image set in the DeepLense layout: `<prefix>_<split>_data.npy` holding images `(N, H, W)` or
/// `(N, 1, H, W)` of any supported dtype and order, and `<prefix>_<split>_labels.npy` holding integer class
/// indices `(N,)` or `(N, 1)` in `0..<classCount` (integer, bool, or integral float dtype). The reference
/// project names the source domain `f` and the target domain `j`; our simulator writes `a` and `b`.
///
/// The image file stays memory-mapped; images are read and converted to float32 per batch. Labels are small
/// and read eagerly, which is also when they are validated.
public final class DeepLenseDataset: @unchecked Sendable {
    public let directory: URL
    public let prefix: String
    public let split: DataSplit
    /// The memory-mapped image array.
    public let images: NpyArray
    /// One class index per image.
    public let labels: [Int]
    public let classCount: Int
    public let height: Int
    public let width: Int

    /// Number of images.
    public var count: Int { labels.count }

    /// `<directory>/<prefix>_<split>_data.npy`
    public static func dataURL(directory: URL, prefix: String, split: DataSplit) -> URL {
        directory.appendingPathComponent("\(prefix)_\(split.rawValue)_data.npy")
    }

    /// `<directory>/<prefix>_<split>_labels.npy`
    public static func labelsURL(directory: URL, prefix: String, split: DataSplit) -> URL {
        directory.appendingPathComponent("\(prefix)_\(split.rawValue)_labels.npy")
    }

    /// The prefixes, sorted, for which both the data and the labels file of `split` exist in `directory`.
    public static func prefixes(in directory: URL, split: DataSplit) -> [String] {
        let names = Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        let suffix = "_\(split.rawValue)_data.npy"
        return names.filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }
            .filter { !$0.isEmpty && names.contains("\($0)_\(split.rawValue)_labels.npy") }
            .sorted()
    }

    /// Opens and validates a data set. With `prefix` nil, the directory must hold exactly one data set for
    /// `split`, whose prefix is then used.
    /// - Throws: `DatasetError` when the prefix cannot be decided; `NpyError` naming the file for a missing or
    ///   malformed file, a wrong shape or images without pixels, a NaN or infinite pixel (the whole image file is read
    ///   once to check), a label count that differs from the image count, or a label outside `0..<classCount`.
    public init(directory: URL, prefix: String? = nil, split: DataSplit, classCount: Int = 3) throws {
        precondition(classCount > 0, "classCount must be positive")
        let chosen: String
        if let prefix {
            chosen = prefix
        } else {
            let candidates = DeepLenseDataset.prefixes(in: directory, split: split)
            guard let only = candidates.first else { throw DatasetError.noDataSet(directory: directory.path, split: split) }
            guard candidates.count == 1 else {
                throw DatasetError.ambiguousPrefix(directory: directory.path, split: split, candidates: candidates)
            }
            chosen = only
        }
        self.directory = directory
        self.prefix = chosen
        self.split = split
        self.classCount = classCount
        let imageArray = try NpyArray(contentsOf: DeepLenseDataset.dataURL(directory: directory, prefix: chosen, split: split))
        let shape = imageArray.shape
        guard shape.count == 3 || (shape.count == 4 && shape[1] == 1) else {
            throw NpyError(file: imageArray.path, reason: .unsupportedShape(shape, expected: "(N, H, W) or (N, 1, H, W)"))
        }
        images = imageArray
        height = shape[shape.count - 2]
        width = shape[shape.count - 1]
        guard height > 0, width > 0 else {
            throw NpyError(file: imageArray.path, reason: .unsupportedShape(shape, expected: "images of at least 1x1 pixels"))
        }
        if let bad = imageArray.firstNonFiniteFloat() {
            throw NpyError(file: imageArray.path, reason: .nonFinitePixel(image: bad.item, value: "\(bad.value)"))
        }
        let labelsPath = DeepLenseDataset.labelsURL(directory: directory, prefix: chosen, split: split).path
        labels = try DeepLenseDataset.readLabels(path: labelsPath, imageCount: shape[0], classCount: classCount)
    }

    /// Reads and validates a label file: shape `(N,)` or `(N, 1)`, `N == imageCount`, values in `0..<classCount`.
    public static func readLabels(path: String, imageCount: Int, classCount: Int) throws -> [Int] {
        let array = try NpyArray(path: path)
        let shape = array.shape
        guard shape.count == 1 || (shape.count == 2 && shape[1] == 1) else {
            throw NpyError(file: path, reason: .unsupportedShape(shape, expected: "(N,) or (N, 1)"))
        }
        guard shape[0] == imageCount else {
            throw NpyError(file: path, reason: .labelCountMismatch(images: imageCount, labels: shape[0]))
        }
        let values: [Int64]
        if array.dtype.kind.isInteger {
            values = array.int64s(items: 0..<shape[0])
        } else {
            let doubles = array.doubles(items: 0..<shape[0])
            if let bad = doubles.firstIndex(where: { $0.rounded() != $0 || abs($0) > 1e15 }) {
                throw NpyError(file: path, reason: .nonIntegerLabel(index: bad, value: doubles[bad]))
            }
            values = doubles.map { Int64($0) }
        }
        if let bad = values.firstIndex(where: { $0 < 0 || $0 >= Int64(classCount) }) {
            throw NpyError(file: path, reason: .labelOutOfRange(index: bad, value: values[bad], classCount: classCount))
        }
        return values.map { Int($0) }
    }

    /// Images at `indices` as float32 `[indices.count, 1, H, W]`, un-normalised.
    public func images(at indices: [Int]) -> Tensor {
        Tensor(shape: [indices.count, 1, height, width], scalars: images.floats(items: indices))
    }

    /// Number of images of each class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }
}
