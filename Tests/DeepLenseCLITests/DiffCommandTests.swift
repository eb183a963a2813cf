import ArgumentParser
import Core
import Foundation
import Testing
@testable import DeepLenseCLI

/// `deeplense diff`: the comparison, its verdict and exit status, and bad inputs.
@Suite struct DiffCommandTests {
    private func file(_ entries: [(String, [Int], [Float])], _ name: String = UUID().uuidString) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diff-\(name).safetensors")
        try Safetensors.write(StateDict(entries.map { ($0.0, Tensor(shape: $0.1, scalars: $0.2)) }), to: url)
        return url.path
    }

    private func outcome(_ arguments: [String]) -> (message: String, code: Int32) {
        do {
            var command = try DeepLense.parseAsRoot(["diff"] + arguments)
            try command.run()
            return ("", 0)
        } catch {
            let (text, code) = DeepLense.report(error)
            return (text, code)
        }
    }

    @Test func largestDifferencesAndVerdict() throws {
        let a = StateDict([("w", Tensor(shape: [3], scalars: [1, 2, 3])), ("b", Tensor(shape: [1], scalars: [.nan]))])
        let b = StateDict([("w", Tensor(shape: [3], scalars: [1, 2.5, 3])), ("b", Tensor(shape: [1], scalars: [.nan]))])
        let comparison = try TensorComparison(a, b, tolerance: 0.1)
        #expect(comparison.largest == 0.5)
        #expect(comparison.exceeding == 1)
        let report = comparison.report(top: 5, names: ("a", "b"))
        #expect(report.contains("2 tensors, 4 values"))
        #expect(report.contains("\nw      5.000e-01    3.000e+00  [3]\n"))
        #expect(report.hasSuffix("a vs b: 1 of 4 values differ by more than 0.1 (largest difference 5.000e-01)"))
        #expect(try TensorComparison(a, a).report(top: 5, names: ("a", "a")).hasSuffix("bit-identical"))
        let nanAgainstNumber = StateDict([("w", Tensor(shape: [3], scalars: [1, 2, 3])), ("b", Tensor(shape: [1], scalars: [0]))])
        #expect(try TensorComparison(a, nanAgainstNumber).largest == .infinity)
    }

    @Test func exitStatusFollowsTheTolerance() throws {
        let a = try file([("w", [2], [1, 2])]), b = try file([("w", [2], [1, 2.001])])
        #expect(outcome([a, a]).code == 0)
        #expect(outcome([a, b]).code == 1)
        #expect(outcome([a, b, "--tolerance", "0.01"]).code == 0)
        #expect(outcome([a, b, "--allowed-fraction", "0.5"]).code == 0)
        #expect(outcome([a, b, "--allowed-fraction", "0.4"]).code == 1)
    }

    @Test func badInputs() throws {
        let a = try file([("w", [2], [1, 2])])
        let otherKeys = try file([("v", [2], [1, 2])]), otherShape = try file([("w", [1, 2], [1, 2])])
        let keys = outcome([a, otherKeys])
        #expect(keys.code == 1 && keys.message.contains("only in the first: w; only in the second: v"))
        let shape = outcome([a, otherShape])
        #expect(shape.code == 1 && shape.message.contains("tensor w has shape [2] in the first file and [1, 2] in the second"))
        #expect(outcome([a, "/nonexistent/x.safetensors"]).code == 1)
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("diff-garbage-\(UUID().uuidString)")
        try Data("not a safetensors file".utf8).write(to: garbage)
        #expect(outcome([a, garbage.path]).code == 1)
        #expect(outcome([a, a, "--tolerance", "-1"]).code == 2)
        #expect(outcome([a]).code == 2)
        #expect(outcome([a, a, "--allowed-fraction", "2"]).code == 2)
    }
}
