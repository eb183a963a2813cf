import Core
import Foundation
import Testing

@Suite struct FilePreflightTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("preflight-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func readProblemNamesWhatIsWrongWithoutOpening() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("pipe"), file = directory.appendingPathComponent("f")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        try Data([1]).write(to: file)
        #expect(FilePreflight.readProblem(path: fifo.path) == "is not a regular file")
        #expect(FilePreflight.readProblem(path: directory.path) == "is a directory")
        #expect(FilePreflight.readProblem(path: directory.appendingPathComponent("missing").path) == "No such file or directory")
        #expect(FilePreflight.readProblem(path: file.path) == nil)
    }

    @Test func writeProblemProbesTheDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(FilePreflight.writeProblem(path: directory.appendingPathComponent("new.npy").path) == nil)
        #expect(FilePreflight.writeProblem(path: directory.path) == "is a directory")
        #expect(FilePreflight.writeProblem(path: directory.appendingPathComponent("a/b/c.npy").path)?.contains("no such file or directory") == true)
        #expect(FilePreflight.writeProblem(path: directory.appendingPathComponent("a/b/c.npy").path, creatingDirectories: true) == nil)
        #expect(FilePreflight.writeProblem(path: "/proc/x")?.hasPrefix("cannot create files in /proc") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "the probe file is removed")
    }

    @Test func resolvedPathsIdentifyTheSameFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("best.safetensors")
        try Data([1]).write(to: file)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("sub"), withIntermediateDirectories: false)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: directory.path)
        let same = [file.path, directory.path + "/./sub/../best.safetensors", link.path + "/best.safetensors"]
        #expect(Set(same.map(FilePreflight.resolvedPath)).count == 1)
        #expect(FilePreflight.resolvedPath(link.path + "/new/x.npy") == FilePreflight.resolvedPath(directory.path) + "/new/x.npy")
        #expect(FilePreflight.resolvedPath(file.path) != FilePreflight.resolvedPath(directory.appendingPathComponent("other").path))
    }

    @Test func availableBytesAreReported() throws {
        #expect((FilePreflight.availableBytes(inDirectory: FileManager.default.temporaryDirectory.path) ?? 0) > 0)
        #expect(FilePreflight.availableBytes(inDirectory: "/nonexistent/directory") == nil)
    }

    @Test func safetensorsRefusesAFifoAndUnwritablePaths() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("w.safetensors")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: SafetensorsError.io("cannot read \(fifo.path): is not a regular file")) { try Safetensors.read(from: fifo) }
        var state = StateDict()
        state["a"] = Tensor(1)
        #expect(throws: SafetensorsError.io("cannot write \(directory.path): is a directory")) { try Safetensors.write(state, to: directory) }
    }

    @Test func stateDictErrorsListAFewKeys() {
        let message = StateDictError.missingKeys((0..<100).map { "layer\($0).weight" }).description
        #expect(message == "missing keys in state dict: layer0.weight, layer1.weight, layer2.weight, layer3.weight, layer4.weight, ... (100 keys)")
    }
}
