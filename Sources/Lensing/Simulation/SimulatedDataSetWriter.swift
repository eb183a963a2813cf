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
    ///
    /// Both files are written under hidden temporary names in `directory` and renamed over the final names only
    /// when complete, so an earlier data set stays intact until then and an interrupted run never leaves a file
    /// whose header promises more images than it holds. Temporary files that interrupted runs left behind are
    /// removed first. Throws `NpyError.Reason.insufficientSpace` before simulating anything when the file system
    /// lacks the room for both files.
    public static func write(simulator: LensSimulator, count: Int, seed: UInt64, split: DataSplit, directory: URL,
                             prefix: String, progress: ((Int) -> Void)? = nil) throws -> Summary {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            let reason = FilePreflight.writeProblem(path: directory.appendingPathComponent("x").path, creatingDirectories: true)
            throw NpyError(file: directory.path, reason: .writeFailed(reason ?? "cannot create the directory"))
        }
        let size = simulator.preset.size
        let dataURL = directory.appendingPathComponent("\(prefix)_\(split.rawValue)_data.npy")
        let labelsURL = directory.appendingPathComponent("\(prefix)_\(split.rawValue)_labels.npy")
        for url in [dataURL, labelsURL] {
            if let problem = FilePreflight.writeProblem(path: url.path) { throw NpyError(file: url.path, reason: .writeFailed(problem)) }
        }
        removeAbandonedTemporaries(of: [dataURL, labelsURL], in: directory)
        let needed = requiredBytes(count: count, size: size)
        if let available = FilePreflight.availableBytes(inDirectory: directory.path), available < needed {
            throw NpyError(file: directory.path, reason: .insufficientSpace(neededBytes: needed, availableBytes: available))
        }
        let start = Date()
        let temporaryData = temporaryURL(for: dataURL), temporaryLabels = temporaryURL(for: labelsURL)
        defer {
            unlink(temporaryData.path)
            unlink(temporaryLabels.path)
        }
        let writer = try NpyStreamWriter(url: temporaryData, kind: .float32, shape: [count, 1, size, size])
        let chunk = 512
        var first: [Float] = []
        for lo in stride(from: 0, to: count, by: chunk) {
            let range = lo..<min(count, lo + chunk)
            let images = simulator.simulateImages(range, seed: seed, split: split) { progress?($0) }
            if lo == 0 { first = Array(images.prefix(min(range.count, 18) * size * size)) }
            try writer.append(floats: images)
        }
        try writer.finish(flushToDisk: true)
        let labels = try NpyStreamWriter(url: temporaryLabels, kind: .int64, shape: [count])
        try labels.append(int64s: simulator.labels(0..<count))
        try labels.finish(flushToDisk: true)
        for (temporary, final) in [(temporaryData, dataURL), (temporaryLabels, labelsURL)] {
            guard rename(temporary.path, final.path) == 0 else {
                throw NpyError(file: final.path, reason: .writeFailed("rename: " + String(cString: strerror(errno))))
            }
        }
        let descriptor = open(directory.path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
        return Summary(dataURL: dataURL, labelsURL: labelsURL, seconds: Date().timeIntervalSince(start), firstImages: first)
    }

    /// Bytes of the image and label files of `count` images of `size` x `size` pixels (headers included;
    /// `Int.max` when that overflows).
    public static func requiredBytes(count: Int, size: Int) -> Int {
        let perImage = size * size * MemoryLayout<Float>.size + MemoryLayout<Int64>.size
        let (data, overflow) = count.multipliedReportingOverflow(by: perImage)
        return overflow ? Int.max : data.addingReportingOverflow(2 * 128).overflow ? Int.max : data + 2 * 128
    }

    /// The hidden name `final` is written under: `.<name>.partial-<pid>` in the same directory (so the final
    /// `rename` stays on one file system).
    static func temporaryURL(for final: URL) -> URL {
        final.deletingLastPathComponent().appendingPathComponent(".\(final.lastPathComponent).partial-\(getpid())")
    }

    /// Removes temporary files of `finals` whose writing process no longer exists.
    private static func removeAbandonedTemporaries(of finals: [URL], in directory: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for final in finals {
            let stem = ".\(final.lastPathComponent).partial-"
            for name in names where name.hasPrefix(stem) {
                guard let pid = Int32(name.dropFirst(stem.count)), pid != getpid() else { continue }
                if kill(pid, 0) != 0, errno == ESRCH { unlink(directory.appendingPathComponent(name).path) }
            }
        }
    }
}
