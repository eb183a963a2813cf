import Core
import Foundation

/// Writes a simulated split in the DeepLense layout: `<prefix>_<split>_data.npy` (float32 `(N, 1, H, W)`) and
/// `<prefix>_<split>_labels.npy` (int64 `(N,)`), streaming chunks of images so memory stays bounded.
public enum SimulatedDataSetWriter {
    /// What was written.
    public struct Summary: Sendable {
        public let dataURL: URL
        public let labelsURL: URL
        public let seconds: Double
        /// The first images (up to 18), for previews.
        public let firstImages: [Float]
    }

    /// Simulates `count` images of `simulator`'s domain and writes them into `directory`.
    /// `progress` receives the number of images finished since its last call.
    public static func write(simulator: LensSimulator, count: Int, seed: UInt64, split: DataSplit, directory: URL,
                             prefix: String, progress: ((Int) -> Void)? = nil) throws -> Summary {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let size = simulator.preset.size
        let dataURL = directory.appendingPathComponent("\(prefix)_\(split.rawValue)_data.npy")
        let labelsURL = directory.appendingPathComponent("\(prefix)_\(split.rawValue)_labels.npy")
        let start = Date()
        let writer = try NpyStreamWriter(url: dataURL, kind: .float32, shape: [count, 1, size, size])
        let chunk = 512
        var first: [Float] = []
        for lo in stride(from: 0, to: count, by: chunk) {
            let range = lo..<min(count, lo + chunk)
            let images = simulator.simulateImages(range, seed: seed, split: split) { progress?($0) }
            if lo == 0 { first = Array(images.prefix(min(range.count, 18) * size * size)) }
            try writer.append(floats: images)
        }
        try writer.finish()
        try NpyFile.write(int64: [count], values: simulator.labels(0..<count), to: labelsURL)
        return Summary(dataURL: dataURL, labelsURL: labelsURL, seconds: Date().timeIntervalSince(start), firstImages: first)
    }
}
