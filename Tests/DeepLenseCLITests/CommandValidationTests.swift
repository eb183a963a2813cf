import ArgumentParser
import Testing
@testable import DeepLenseCLI

/// User mistakes end in a one-line message and the usage exit code, never a crash.
@Suite struct CommandValidationTests {
    static let badInputs: [([String], String)] = [
        (["simulate", "--domain", "C", "--count", "3", "--out", "/tmp/x"], "unknown domain 'C'"),
        (["simulate", "--count", "0", "--out", "/tmp/x"], "--count must be positive"),
        (["simulate", "--count", "3", "--size", "100", "--out", "/tmp/x"], "unsupported --size 100"),
        (["simulate", "--count", "3", "--split", "val", "--out", "/tmp/x"], "unknown split 'val'"),
        (["simulate", "--count", "3", "--mass-scale=-2", "--out", "/tmp/x"], "--mass-scale must be positive"),
        (["strength", "--domain", "Z"], "unknown domain 'Z'"),
        (["strength", "--size", "32"], "unsupported --size 32"),
        (["strength", "--count=-1"], "--count must be positive"),
        (["strength", "--mass-scale", "0"], "--mass-scale must be positive"),
    ]

    @Test(arguments: badInputs)
    func badInputIsAValidationError(arguments: [String], message: String) {
        do {
            _ = try DeepLense.parseAsRoot(arguments)
            Issue.record("`deeplense \(arguments.joined(separator: " "))` was accepted")
        } catch {
            #expect(DeepLense.message(for: error).contains(message), "got: \(DeepLense.message(for: error))")
            #expect(DeepLense.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func strengthDefaultsParse() throws {
        let command = try #require(try DeepLense.parseAsRoot(["strength", "--domain", "b", "--size", "64"]) as? StrengthCommand)
        #expect(command.count == 100 && command.seed == 3 && command.massScale == nil)
    }
}
