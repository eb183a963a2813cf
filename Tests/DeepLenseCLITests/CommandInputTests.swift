import ArgumentParser
import Foundation
import Testing
@testable import DeepLenseCLI

/// Bad files and paths end in one line and exit status 1, before anything is written.
@Suite struct CommandInputTests {
    private func temporaryDirectory(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("cli-\(name.filter { $0.isLetter })-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A version 1.0 `.npy` file with the given header dictionary and payload.
    private func npy(_ dictionary: String, payload: [UInt8] = []) -> Data {
        var text = dictionary
        text += String(repeating: " ", count: (64 - (10 + text.utf8.count + 1) % 64) % 64) + "\n"
        return Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)] + Array(text.utf8) + payload)
    }

    /// A safetensors file holding one float32 tensor per key, each of shape [1].
    private func safetensors(_ keys: [String]) -> Data {
        let entries = keys.enumerated().map { k, key in "\"\(key)\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\(4 * k),\(4 * k + 4)]}" }
        let header = "{" + entries.joined(separator: ",") + "}"
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: [UInt8](repeating: 0, count: 4 * keys.count))
        return data
    }

    /// Runs `deeplense arguments` and returns the error message and exit code (nil when it succeeds).
    private func failure(_ arguments: [String]) -> (message: String, code: Int32)? {
        do {
            var command = try DeepLense.parseAsRoot(arguments)
            try command.run()
            return nil
        } catch {
            return (DeepLense.message(for: error), DeepLense.exitCode(for: error).rawValue)
        }
    }

    private func expectOneLineError(_ arguments: [String], containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let (message, code) = failure(arguments) else {
            Issue.record("`deeplense \(arguments.joined(separator: " "))` succeeded", sourceLocation: sourceLocation); return
        }
        #expect(code == 1, "exit code \(code) for: \(message)", sourceLocation: sourceLocation)
        #expect(message.contains(text), "got: \(message)", sourceLocation: sourceLocation)
        #expect(!message.contains("\n") && message.count < 500, "one short line: \(message)", sourceLocation: sourceLocation)
    }

    @Test func inspectAndFeaturesRefuseAFifoWithoutBlocking() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("images.npy").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let weights = directory.appendingPathComponent("w.safetensors")
        try safetensors(["a"]).write(to: weights)
        expectOneLineError(["inspect", fifo], containing: "is not a regular file")
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", fifo,
                            "--out", directory.appendingPathComponent("f.npy").path], containing: "is not a regular file")
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", fifo, "--input", weights.path,
                            "--out", directory.appendingPathComponent("f.npy").path], containing: "--weights \(fifo): is not a regular file")
    }

    @Test func inspectReportsHostileHeadersInOneLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String)] = [
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }", "more elements per item than fit in memory"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': " + String(repeating: "[", count: 30_000)
                + String(repeating: "]", count: 30_000) + "}", "nest more than 64 levels deep"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '[('a', '<f4')]'"),
        ]
        for (k, (dictionary, text)) in cases.enumerated() {
            let file = directory.appendingPathComponent("\(k).npy")
            var data = npy(String(dictionary.prefix(60_000)), payload: [0, 0, 0, 0])
            if dictionary.count > 60_000 {
                var header = Array(dictionary.utf8) + [0x0A]
                while (12 + header.count) % 64 != 0 { header.insert(0x20, at: header.count - 1) }
                data = Data([0x93] + Array("NUMPY".utf8) + [2, 0] + withUnsafeBytes(of: UInt32(header.count).littleEndian) { Array($0) } + header)
            }
            try data.write(to: file)
            expectOneLineError(["inspect", file.path], containing: text)
        }
    }

    @Test func trainReportsAnOverflowingShapeInOneLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }")
            .write(to: directory.appendingPathComponent("a_train_data.npy"))
        try npy("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }").write(to: directory.appendingPathComponent("a_train_labels.npy"))
        expectOneLineError(["train", "--method", "source-only", "--source", directory.path, "--target", directory.path, "--epochs", "1",
                            "--out", directory.appendingPathComponent("run").path, "--quiet"],
                           containing: "a_train_data.npy: malformed header: shape (0, 4294967296, 4294967296) has more elements per item")
    }

    @Test func featuresRefusesToOverwriteItsInputAndReadsNoEmptyImages() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = directory.appendingPathComponent("images.npy"), weights = directory.appendingPathComponent("w.safetensors")
        let original = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1), }", payload: [0, 0, 0x80, 0x3F])
        try original.write(to: images)
        try safetensors(["a"]).write(to: weights)
        let relativeAlias = directory.path + "/./images.npy"
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", images.path, "--out", relativeAlias],
                           containing: "is the --input file")
        #expect(try Data(contentsOf: images) == original)
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", images.path, "--out", weights.path],
                           containing: "is the --weights file")
        let empty = directory.appendingPathComponent("empty.npy")
        try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1, 0, 8), }").write(to: empty)
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", empty.path,
                            "--out", directory.appendingPathComponent("f.npy").path], containing: "images of 0x8 pixels have no pixels")
    }

    @Test func weightsThatDoNotFitAreAOneLineError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let images = directory.appendingPathComponent("images.npy"), weights = directory.appendingPathComponent("w.safetensors")
        try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1), }", payload: [0, 0, 0x80, 0x3F]).write(to: images)
        try safetensors(["a"]).write(to: weights)
        let out = directory.appendingPathComponent("f.npy")
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", images.path, "--out", out.path],
                           containing: "does not fit resnet18: missing keys in state dict: conv1.weight,")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", weights.path, "--input", images.path, "--out", "/proc/x"],
                           containing: "--out /proc/x: cannot create files in /proc")
    }

    @Test func exportRefusesItsOwnSourceAndChecksBothDestinationsFirst() throws {
        let run = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: run) }
        let best = run.appendingPathComponent("best.safetensors")
        let original = safetensors(["model.encoder.w", "model.classifier.w"])
        try original.write(to: best)
        expectOneLineError(["export", "--run", run.path, "--out", best.path], containing: "the run's selected model")
        expectOneLineError(["export", "--run", run.path, "--out", run.appendingPathComponent("e.safetensors").path,
                            "--classifier", run.path + "/../\(run.lastPathComponent)/best.safetensors"], containing: "the run's selected model")
        #expect(try Data(contentsOf: best) == original)
        let encoder = run.appendingPathComponent("encoder.safetensors")
        expectOneLineError(["export", "--run", run.path, "--out", encoder.path, "--classifier", "/nonexistent/dir/head.safetensors"],
                           containing: "--classifier /nonexistent/dir/head.safetensors")
        #expect(!FileManager.default.fileExists(atPath: encoder.path), "nothing is written when a destination is unwritable")
        #expect(failure(["export", "--run", run.path, "--out", encoder.path, "--classifier", run.appendingPathComponent("head.safetensors").path]) == nil)
        #expect(FileManager.default.fileExists(atPath: encoder.path))
    }

    @Test func lensEvalRefusesNonFiniteResults() {
        expectOneLineError(["lens-eval", "--profile", "SHEAR", "--param", "gamma1=1e300", "--param", "gamma2=0", "--point", "1e300,1e300"],
                           containing: "SHEAR gives a non-finite value at the point")
    }

    /// Writes a six-image 2x2 float32 data set `a_train` (pixel `nan` at image 4 when asked) into `directory`.
    private func writeTinyDataset(_ directory: URL, nanAtImage: Int? = nil) throws {
        var payload: [UInt8] = []
        for image in 0..<6 {
            for _ in 0..<4 { payload += image == nanAtImage ? [0, 0, 0xC0, 0x7F] : [0, 0, 0x80, 0x3F] }
        }
        try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6, 1, 2, 2), }", payload: payload)
            .write(to: directory.appendingPathComponent("a_train_data.npy"))
        try npy("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), }", payload: [0, 1, 2, 0, 1, 2])
            .write(to: directory.appendingPathComponent("a_train_labels.npy"))
    }

    @Test func trainRefusesNonFinitePixelsAndUnusableRunDirectories() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeTinyDataset(directory)
        let base = ["train", "--method", "source-only", "--source", directory.path, "--target", directory.path, "--epochs", "1", "--quiet"]
        expectOneLineError(base + ["--out", "/proc/x"], containing: "cannot use run directory /proc/x: cannot create files in /proc")
        let both = failure(base + ["--out", directory.appendingPathComponent("run").path, "--resume", "--force"])
        #expect(both?.message.contains("give one of them") == true)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path))
        try writeTinyDataset(directory, nanAtImage: 4)
        expectOneLineError(base + ["--out", directory.appendingPathComponent("run").path],
                           containing: "a_train_data.npy: image 4 (counting from 0) holds a pixel value nan")
        expectOneLineError(["features", "--backbone", "resnet18", "--weights", directory.appendingPathComponent("a_train_labels.npy").path,
                            "--input", directory.appendingPathComponent("a_train_data.npy").path,
                            "--out", directory.appendingPathComponent("f.npy").path], containing: "image 4 (counting from 0) holds a pixel value nan")
    }

    @Test func unwritableOutputDirectoriesAreOneLineErrors() {
        expectOneLineError(["simulate", "--count", "1", "--size", "64", "--out", "/proc/x", "--quiet"], containing: "cannot create files in /proc")
        expectOneLineError(["equivariance", "--save-arrays", "/proc/x"], containing: "--save-arrays /proc/x: cannot create files in /proc")
    }
}
