import Foundation
import Testing
@testable import Lensing

/// What progress callbacks (on compute threads) saw while a data set was written.
private final class Observations: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var oldItemCounts: [Int?] = []
    private(set) var sawTemporaryFile = false

    func record(oldItemCount: Int?, temporaryFiles: Int) {
        lock.lock()
        defer { lock.unlock() }
        oldItemCounts.append(oldItemCount)
        sawTemporaryFile = sawTemporaryFile || temporaryFiles > 0
    }
}

@Suite struct SimulatedDataSetWriterTests {
    private let simulator = LensSimulator(priors: .modelA, preset: ImagePreset(size: 64)!, supersampling: 1)

    private func temporaries(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.contains(".partial-") }
    }

    @Test func replacesAnEarlierDataSetOnlyWhenComplete() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try SimulatedDataSetWriter.write(simulator: simulator, count: 3, seed: 1, split: .test, directory: directory, prefix: "a")
        let seen = Observations()
        let summary = try SimulatedDataSetWriter.write(simulator: simulator, count: 6, seed: 2, split: .test,
                                                       directory: directory, prefix: "a") { _ in
            let old = try? NpyFile.read(directory.appendingPathComponent("a_test_data.npy"))
            seen.record(oldItemCount: old?.itemCount, temporaryFiles: temporaries(in: directory).count)
        }
        #expect(seen.oldItemCounts.allSatisfy { $0 == 3 }, "the earlier data set stays readable while the new one is written")
        #expect(seen.sawTemporaryFile)
        #expect(try NpyFile.read(summary.dataURL).shape == [6, 1, 64, 64])
        #expect(try NpyFile.read(summary.labelsURL).shape == [6])
        #expect(temporaries(in: directory).isEmpty)
    }

    @Test func removesTemporaryFilesOfDeadWriters() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let abandoned = directory.appendingPathComponent(".a_test_data.npy.partial-999999999")
        try Data([1, 2, 3]).write(to: abandoned)
        _ = try SimulatedDataSetWriter.write(simulator: simulator, count: 1, seed: 1, split: .test, directory: directory, prefix: "a")
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
    }

    @Test func refusesWhenTheFileSystemLacksSpaceBeforeWriting() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try SimulatedDataSetWriter.write(simulator: simulator, count: 3, seed: 1, split: .test, directory: directory, prefix: "a")
        let before = try Data(contentsOf: directory.appendingPathComponent("a_test_data.npy"))
        let count = Int.max / (64 * 64 * 4 + 8) / 2
        do {
            _ = try SimulatedDataSetWriter.write(simulator: simulator, count: count, seed: 1, split: .test, directory: directory, prefix: "a")
            Issue.record("an impossible data set was accepted")
        } catch let error as NpyError {
            guard case .insufficientSpace(let needed, let available) = error.reason else { Issue.record("\(error)"); return }
            #expect(needed == SimulatedDataSetWriter.requiredBytes(count: count, size: 64) && available < needed)
            #expect(error.description.contains("not enough free space: needs") && error.description.contains("available"))
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("a_test_data.npy")) == before)
        #expect(temporaries(in: directory).isEmpty)
    }

    @Test func requiredBytesSaturatesInsteadOfOverflowing() {
        #expect(SimulatedDataSetWriter.requiredBytes(count: 10, size: 64) == 10 * (64 * 64 * 4 + 8) + 256)
        #expect(SimulatedDataSetWriter.requiredBytes(count: Int.max / 2, size: 150) == Int.max)
    }
}
