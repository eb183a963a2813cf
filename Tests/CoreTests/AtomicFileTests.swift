@testable import Core
import Foundation
import Testing

@Suite struct AtomicFileTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A write replaces the contents and leaves nothing but the destination in the directory.
    @Test func writeReplacesTheFileAndLeavesNoTemporary() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("state.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        try AtomicFile.write(Data([4, 5]), to: url)
        #expect(try Data(contentsOf: url) == Data([4, 5]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.bin"])
    }

    /// Writers on several threads to one path each leave a complete file: the last rename wins, no bytes interleave.
    @Test func concurrentWritersNeverInterleave() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("shared.bin")
        let payloads = (0..<8).map { Data(repeating: UInt8($0), count: 1 << 16) }
        DispatchQueue.concurrentPerform(iterations: payloads.count) { try? AtomicFile.write(payloads[$0], to: url) }
        #expect(payloads.contains(try Data(contentsOf: url)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["shared.bin"])
    }

    /// Directories, special files and missing directories are refused with one sentence naming the path.
    @Test func unwritableDestinationsAreRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: AtomicFile.Failure(description: "cannot write \(directory.path): is a directory")) {
            try AtomicFile.write(Data([1]), to: directory)
        }
        let fifo = directory.appendingPathComponent("pipe")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: AtomicFile.Failure(description: "cannot write \(fifo.path): is not a regular file")) {
            try AtomicFile.write(Data([1]), to: fifo)
        }
        let missing = directory.appendingPathComponent("no/such/file.bin")
        #expect { try AtomicFile.write(Data([1]), to: missing) } throws: { error in
            "\(error)".hasPrefix("cannot write \(missing.path): directory ") && "\(error)".hasSuffix("no such file or directory")
        }
    }

    /// The temporary names `write` makes are the ones `isTemporary` recognises (run directories sweep them).
    @Test func temporaryNamesAreRecognised() {
        let url = URL(fileURLWithPath: "/tmp/run/best.safetensors")
        let first = AtomicFile.temporaryURL(for: url), second = AtomicFile.temporaryURL(for: url)
        #expect(first != second && first.deletingLastPathComponent() == url.deletingLastPathComponent())
        #expect(AtomicFile.isTemporary(first.lastPathComponent) && first.lastPathComponent.hasPrefix(".best.safetensors.tmp-\(getpid())-"))
        #expect(AtomicFile.isTemporary(".checkpoint.safetensors.tmp-123"))
        #expect(AtomicFile.isTemporary(".checkpoint.safetensors.tmp-123-7"))
        for name in [".tmp-123", "checkpoint.tmp-1", ".a.tmp-", ".a.tmp-12-", ".a.tmp-x", ".a.tmp-1-2-3", ".a.tmp--1"] {
            #expect(!AtomicFile.isTemporary(name), "\(name)")
        }
    }
}
