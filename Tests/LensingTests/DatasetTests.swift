import Foundation
import Testing
@testable import Lensing

/// Writes `<prefix>_<split>_data.npy` (float32 `(n, 1, h, w)`, image `i` filled with `i + pixel/1000`) and
/// int64 labels `i % classCount`.
func writeSyntheticDataset(_ dir: URL, prefix: String = "a", split: DataSplit = .train, count n: Int = 12,
                           height h: Int = 4, width w: Int = 5, classCount: Int = 3, channelAxis: Bool = true) throws {
    var scalars = [Float]()
    for i in 0..<n { for p in 0..<(h * w) { scalars.append(Float(i) + Float(p) / 1000) } }
    try NpyFile.write(float32: channelAxis ? [n, 1, h, w] : [n, h, w], scalars: scalars,
                      to: DeepLenseDataset.dataURL(directory: dir, prefix: prefix, split: split))
    try NpyFile.write(int64: [n], values: (0..<n).map { Int64($0 % classCount) },
                      to: DeepLenseDataset.labelsURL(directory: dir, prefix: prefix, split: split))
}

@Suite struct DatasetTests {
    @Test func opensTheOnlyDataSetWithoutAPrefix() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, prefix: "f", split: .train)
        try writeSyntheticDataset(dir, prefix: "f", split: .test, count: 6)
        let train = try DeepLenseDataset(directory: dir, split: .train)
        #expect(train.prefix == "f")
        #expect(train.count == 12 && train.height == 4 && train.width == 5)
        #expect(train.labels == (0..<12).map { $0 % 3 })
        #expect(train.classCounts == [4, 4, 4])
        let images = train.images(at: [3, 0])
        #expect(images.shape == [2, 1, 4, 5])
        #expect(images.scalars[0] == 3 && images.scalars[21] == 0.001)
        #expect(try DeepLenseDataset(directory: dir, split: .test).count == 6)
    }

    @Test func acceptsImagesWithoutChannelAxisAndColumnLabels() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 6, channelAxis: false)
        try NpyFile.write(int64: [6, 1], values: [0, 1, 2, 2, 1, 0],
                          to: DeepLenseDataset.labelsURL(directory: dir, prefix: "a", split: .train))
        let set = try DeepLenseDataset(directory: dir, prefix: "a", split: .train)
        #expect(set.labels == [0, 1, 2, 2, 1, 0])
        #expect(set.images(at: [5]).shape == [1, 1, 4, 5])
    }

    @Test func floatLabelsMustBeIntegral() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 3)
        let labels = DeepLenseDataset.labelsURL(directory: dir, prefix: "a", split: .train)
        try NpyFile.write(float32: [3], scalars: [0, 2, 1], to: labels)
        #expect(try DeepLenseDataset(directory: dir, split: .train).labels == [0, 2, 1])
        try NpyFile.write(float32: [3], scalars: [0, 1.5, 1], to: labels)
        #expect(throws: NpyError(file: labels.path, reason: .nonIntegerLabel(index: 1, value: 1.5))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
    }

    @Test func ambiguousOrMissingPrefixIsReported() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: DatasetError.noDataSet(directory: dir.path, split: .train)) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        try writeSyntheticDataset(dir, prefix: "f")
        try writeSyntheticDataset(dir, prefix: "j")
        #expect(throws: DatasetError.ambiguousPrefix(directory: dir.path, split: .train, candidates: ["f", "j"])) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        #expect(try DeepLenseDataset(directory: dir, prefix: "j", split: .train).prefix == "j")
    }

    @Test func labelCountMismatchNamesTheLabelFile() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 6)
        let labels = DeepLenseDataset.labelsURL(directory: dir, prefix: "a", split: .train)
        try NpyFile.write(int64: [5], values: [0, 1, 2, 0, 1], to: labels)
        #expect(throws: NpyError(file: labels.path, reason: .labelCountMismatch(images: 6, labels: 5))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
    }

    @Test func labelsOutOfRangeAreRejected() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 4)
        let labels = DeepLenseDataset.labelsURL(directory: dir, prefix: "a", split: .train)
        try NpyFile.write(int64: [4], values: [0, 1, 3, 0], to: labels)
        #expect(throws: NpyError(file: labels.path, reason: .labelOutOfRange(index: 2, value: 3, classCount: 3))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        try NpyFile.write(int64: [4], values: [0, -1, 1, 0], to: labels)
        #expect(throws: NpyError(file: labels.path, reason: .labelOutOfRange(index: 1, value: -1, classCount: 3))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        try NpyFile.write(int64: [4], values: [0, 1, 1, 0], to: labels)
        #expect(try DeepLenseDataset(directory: dir, split: .train, classCount: 2).classCounts == [2, 2])
    }

    @Test func wrongShapesAreRejected() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 4)
        let data = DeepLenseDataset.dataURL(directory: dir, prefix: "a", split: .train)
        try NpyFile.write(float32: [4, 2, 2, 2], scalars: [Float](repeating: 0, count: 32), to: data)
        #expect(throws: NpyError(file: data.path, reason: .unsupportedShape([4, 2, 2, 2], expected: "(N, H, W) or (N, 1, H, W)"))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
    }

    /// Images without pixels, and NaN or infinite pixels (also float64 values beyond float32's range), are refused
    /// naming the file and the image; float images that are finite, and integer images, open.
    @Test func emptyAndNonFiniteImagesAreRejected() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 4)
        let data = DeepLenseDataset.dataURL(directory: dir, prefix: "a", split: .train)
        try NpyFile.write(float32: [4, 1, 0, 5], scalars: [], to: data)
        #expect(throws: NpyError(file: data.path, reason: .unsupportedShape([4, 1, 0, 5], expected: "images of at least 1x1 pixels"))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        for (bad, text) in [(Float.nan, "nan"), (-.infinity, "-inf")] {
            var pixels = [Float](repeating: 1e30, count: 4 * 6)
            pixels[2 * 6 + 5] = bad
            try NpyFile.write(float32: [4, 2, 3], scalars: pixels, to: data)
            #expect(throws: NpyError(file: data.path, reason: .nonFinitePixel(image: 2, value: text))) {
                try DeepLenseDataset(directory: dir, split: .train)
            }
        }
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1, 1), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var bytes = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8))
        for value in [0.5, 1e300, 2, 3] { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try bytes.write(to: data)
        #expect(throws: NpyError(file: data.path, reason: .nonFinitePixel(image: 1, value: "inf"))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
        try writeSyntheticDataset(dir, count: 4)
        #expect(try DeepLenseDataset(directory: dir, split: .train).count == 4)
        #expect(NpyError(file: "x.npy", reason: .nonFinitePixel(image: 2, value: "nan")).description
            == "x.npy: image 2 (counting from 0) holds a pixel value nan; images must hold finite numbers")
    }

    @Test func malformedImageFileNamesIt() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 4)
        let data = DeepLenseDataset.dataURL(directory: dir, prefix: "a", split: .train)
        let bytes = try Data(contentsOf: data)
        try bytes.dropLast(7).write(to: data)
        #expect(throws: NpyError(file: data.path, reason: .truncatedData(expectedBytes: 320, actualBytes: 313))) {
            try DeepLenseDataset(directory: dir, split: .train)
        }
    }

    @Test func normalizations() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: 6)
        let set = try DeepLenseDataset(directory: dir, split: .train)
        var pixels = set.images.floats()
        pixels.withUnsafeMutableBufferPointer { Normalization.perImageMinMax.apply(to: $0, pixelsPerImage: 20) }
        for i in 0..<6 {
            let image = pixels[(i * 20)..<((i + 1) * 20)]
            #expect(image.min() == 0 && image.max() == 1)
        }
        guard case .standardization(let mean, let std) = Normalization.datasetStandardization(of: set) else {
            Issue.record("expected standardization"); return
        }
        let raw = set.images.floats().map(Double.init)
        let m = raw.reduce(0, +) / Double(raw.count)
        let s = (raw.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(raw.count)).squareRoot()
        // float32 storage of the statistics: relative error ~6e-8.
        #expect(abs(Double(mean) - m) < 1e-6 * abs(m) && abs(Double(std) - s) < 1e-6 * s)
    }
}
