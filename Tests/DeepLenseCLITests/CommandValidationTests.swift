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
        (["strength", "--mass-scale", "0"], "--mass-scale must be a positive number"),
        (["strength", "--threshold", "nan"], "--threshold must be a finite, non-negative Delta chi^2, got nan"),
        (["strength", "--seed", "-1"], "seeds are non-negative integers"),
        (["simulate", "--count", "3", "--out", "/tmp/x", "--seed", "-1"], "seeds are non-negative integers"),
        (["equivariance", "--seed", "-1"], "seeds are non-negative integers"),
        (["equivariance", "--size", "100000"], "--size must be between 9 and 512, got 100000"),
        (["equivariance", "--group", "C1000000"], "N must be at most 64, got 1000000"),
        (["equivariance", "--group", "D64", "--size", "512"], "the largest size for D64 is 181"),
        (["lens-eval", "--profile", "SIE", "--param", "e1=1", "--param", "e2=0", "--param", "theta_E=1", "--point", "0,0"],
         "sqrt(e1^2 + e2^2) must be below 0.999"),
        (["lens-eval", "--profile", "SIS", "--param", "theta_E=-1", "--point", "0,0"], "'theta_E': must be positive, got -1.0"),
        (["lens-eval", "--profile", "SIS", "--param", "theta_E=1", "--param", "theta_E=2", "--point", "0,0"],
         "--param theta_E is given more than once"),
        (["train", "--method", "adda", "--source", "/tmp/a", "--target", "/tmp/b", "--epochs", "1", "--out", "/tmp/r",
          "--log-steps", "0"], "--log-steps must be at least 1, got 0"),
    ]

    @Test(arguments: badInputs + CompareGridCommandTests.badInputs)
    func badInputIsAValidationError(arguments: [String], message: String) {
        do {
            _ = try DeepLense.parseAsRoot(arguments)
            Issue.record("`deeplense \(arguments.joined(separator: " "))` was accepted")
        } catch {
            #expect(DeepLense.message(for: error).contains(message), "got: \(DeepLense.message(for: error))")
            #expect(DeepLense.exitCode(for: error) == .validationFailure)
        }
    }

    /// What the executable prints and returns: a refused command line is one line with exit 2, help is exit 0 with the
    /// usage, an error while running is one line with exit 1.
    @Test func commandLineErrorsAreOneLineWithExitTwo() throws {
        for arguments in [["lens-eval", "--profile", "SIS", "--param", "theta_E=-1", "--point", "0,0"], ["train", "--method", "nope"],
                          ["simulate", "--count"], ["no-such-command"]] {
            do {
                var command = try DeepLense.parseAsRoot(arguments)
                try command.run()
                Issue.record("`deeplense \(arguments.joined(separator: " "))` was accepted")
            } catch {
                let (text, code) = DeepLense.report(error)
                #expect(code == 2, "\(arguments): exit \(code)")
                #expect(text.hasPrefix("Error: ") && !text.contains("\n") && !text.contains("USAGE"), "\(arguments): \(text)")
            }
        }
        do {
            var help = try DeepLense.parseAsRoot(["train", "--help"])
            try help.run()
            Issue.record("--help ran as a command")
        } catch {
            let (text, code) = DeepLense.report(error)
            #expect(code == 0 && text.contains("USAGE") && text.contains("--method"))
        }
        struct RunFailure: Error, CustomStringConvertible { var description: String { "no data in /x" } }
        let runtime = DeepLense.report(RunFailure())
        #expect(runtime.code == 1 && runtime.text == "Error: no data in /x")
    }

    @Test func negativeNumbersParseAsValues() throws {
        let eval = try #require(try DeepLense.parseAsRoot(["lens-eval", "--profile", "SIS", "--param", "theta_E=1",
                                                            "--point", "-0.5,0.3", "--point", "-1,-2"]) as? LensEvalCommand)
        #expect(try eval.parsedPoints().map { [$0.0, $0.1] } == [[-0.5, 0.3], [-1, -2]])
        let simulate = try #require(try DeepLense.parseAsRoot(["simulate", "--count", "3", "--out", "/tmp/x", "--seed", "7"]) as? SimulateCommand)
        #expect(simulate.seed == 7)
    }

    @Test func strengthDefaultsParse() throws {
        let command = try #require(try DeepLense.parseAsRoot(["strength", "--domain", "b", "--size", "64"]) as? StrengthCommand)
        #expect(command.count == 100 && command.seed == 3 && command.massScale == nil)
    }
}
