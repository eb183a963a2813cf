import ArgumentParser
import Testing
@testable import DeepLenseCLI

/// The option groups several commands share (`ThreadOptions`, `SimulatedDomainOptions`, `AdaptationProtocolOptions`).
@Suite struct SharedOptionsTests {
    static let train = ["train", "--method", "adda", "--source", "/tmp/a", "--target", "/tmp/b", "--epochs", "1", "--out", "/tmp/r"]

    /// The flags each command's help lists (groups included), so moving a declaration into a group cannot drop one.
    static let flags: [(ParsableCommand.Type, Set<String>)] = [
        (SimulateCommand.self, ["--domain", "--split", "--count", "--size", "--seed", "--out", "--prefix", "--supersampling",
                                "--threads", "--mass-scale", "--psf-sigma", "--snr", "--gain", "--sky", "--preview", "--quiet"]),
        (StrengthCommand.self, ["--domain", "--size", "--count", "--seed", "--mass-scale", "--threshold"]),
        (EvaluateCommand.self, ["--run", "--data", "--prefix", "--threads"]),
        (FeaturesCommand.self, ["--backbone", "--weights", "--input", "--out", "--batch"]),
        (TrainCommand.self, ["--method", "--backbone", "--source", "--target", "--source-prefix", "--target-prefix", "--epochs",
                             "--batch", "--seed", "--out", "--resume", "--force", "--patience", "--validation-fraction",
                             "--max-iterations", "--threads", "--init", "--source-model", "--fine-tuning-learning-rate",
                             "--selection", "--diagnose-target", "--log-steps", "--quiet", "--distributed"]),
        (CompareCommand.self, ["--profile", "--backbones", "--methods", "--seeds", "--init", "--selection", "--ceiling",
                               "--diagnose-target", "--data", "--out", "--epochs", "--adaptation-epochs", "--threads", "--quiet",
                               "--emit", "--prepare", "--cell", "--collect", "--partition", "--time", "--cpus-per-task", "--mem",
                               "--max-parallel", "--account"]),
    ]

    @Test func everyCommandListsItsFlags() {
        for (command, expected) in Self.flags {
            let help = DeepLense.helpMessage(for: command, columns: 400)
            let listed = Set(help.split(separator: "\n").compactMap { line -> String? in
                // option rows: "  --name <value>  help", "  -h, --help  help", "  --ceiling/--no-ceiling  help"
                guard let first = line.split(separator: " ").first(where: { $0.hasPrefix("--") }) else { return nil }
                let name = String(first.split(separator: "/")[0])
                return name.allSatisfy { $0 == "-" || $0.isLowercase || $0.isNumber } ? name : nil
            }).subtracting(["--help"])
            #expect(listed == expected, "\(command.configuration.commandName ?? "?")")
        }
    }

    /// `--threads 0` is a usage error in every command that has `--threads` (none reaches the thread pool's
    /// precondition): the `ThreadOptions` group and `train`'s own option.
    @Test(arguments: [["simulate", "--count", "3", "--out", "/tmp/x"], train, ["evaluate", "--run", "/tmp/r", "--data", "/tmp/d"],
                      ["compare", "--out", "/tmp/c"]])
    func threadCountIsChecked(arguments: [String]) {
        do {
            _ = try DeepLense.parseAsRoot(arguments + ["--threads", "0"])
            Issue.record("`deeplense \(arguments.joined(separator: " ")) --threads 0` was accepted")
        } catch {
            #expect(DeepLense.message(for: error).contains("--threads must be at least 1"))
            #expect(DeepLense.exitCode(for: error) == .validationFailure)
        }
    }

    /// `train` and `features` refuse an unknown backbone alike, listing the known ones.
    @Test(arguments: [train, ["features", "--weights", "w", "--input", "i", "--out", "o"]])
    func unknownBackboneIsNamed(arguments: [String]) {
        do {
            _ = try DeepLense.parseAsRoot(arguments + ["--backbone", "vgg16"])
            Issue.record("`deeplense \(arguments[0]) --backbone vgg16` was accepted")
        } catch {
            #expect(DeepLense.message(for: error).contains("unknown backbone 'vgg16'; available: resnet18"))
            #expect(DeepLense.exitCode(for: error) == .validationFailure)
        }
    }

    /// `simulate` and `strength` accept the same domains and sizes.
    @Test func simulateAndStrengthShareTheirDomains() throws {
        for command in [["simulate", "--count", "3", "--out", "/tmp/x"], ["strength"]] {
            let parsed = try DeepLense.parseAsRoot(command + ["--domain", "A-shifted", "--size", "64"])
            let scene = (parsed as? SimulateCommand)?.scene ?? (parsed as? StrengthCommand)?.scene
            #expect(scene?.priors.name == "A-shifted" && scene?.preset.size == 64, "\(command[0])")
        }
    }

    /// `--init`, `--selection` and `--diagnose-target` parse alike in `train` and `compare`.
    @Test func adaptationOptionsParseAlike() throws {
        let options = ["--init", "scratch", "--selection", "dev", "--diagnose-target"]
        let train = try #require(try DeepLense.parseAsRoot(Self.train + options) as? TrainCommand)
        let compare = try #require(try DeepLense.parseAsRoot(["compare", "--out", "/tmp/c"] + options) as? CompareCommand)
        for adaptation in [train.adaptation, compare.adaptation] {
            #expect(adaptation.initialization == .scratch && adaptation.selection == .deepEmbeddedValidation && adaptation.diagnoseTarget)
        }
        let defaults = try #require(try DeepLense.parseAsRoot(Self.train) as? TrainCommand).adaptation
        #expect(defaults.initialization == .source && defaults.selection == .sourceValidation && !defaults.diagnoseTarget)
    }
}
