import ArgumentParser
import DomainAdaptation
import Foundation
import Testing
@testable import DeepLenseCLI

/// `deeplense compare` grid steps: option checks and the arguments the job scripts repeat.
@Suite struct CompareGridCommandTests {
    /// Checked by `CommandValidationTests.badInputIsAValidationError`.
    static let badInputs: [([String], String)] = [
        (["compare", "--out", "/tmp/x", "--emit", "pbs"], "unknown --emit 'pbs'; available: slurm"),
        (["compare", "--out", "/tmp/x", "--cell=-1"], "--cell must be a non-negative cell index, got -1"),
        (["compare", "--out", "/tmp/x", "--prepare", "--collect"], "--prepare, --collect cannot be combined"),
        (["compare", "--out", "/tmp/x", "--emit", "slurm", "--cell", "2"], "--emit, --cell cannot be combined"),
        (["compare", "--out", "/tmp/x", "--time", "10"], "--time only applies with --emit slurm"),
        (["compare", "--out", "/tmp/x", "--cell", "0", "--partition", "cpu"], "--partition only applies with --emit slurm"),
        (["compare", "--out", "/tmp/x", "--emit", "slurm", "--time", "1:00:00:00"], "--time '1:00:00:00' is not a Slurm time"),
        (["compare", "--out", "/tmp/x", "--emit", "slurm", "--mem", "lots"], "--mem 'lots' is not a Slurm memory size"),
        (["compare", "--out", "/tmp/x", "--emit", "slurm", "--max-parallel", "0"], "--max-parallel must be at least 1, got 0"),
        (["compare", "--out", "/tmp/x", "--emit", "slurm", "--cpus-per-task", "0"], "--cpus-per-task must be at least 1, got 0"),
    ]

    /// The scripts repeat the grid's options with every default resolved and the paths absolute, so a job defines the
    /// same grid whatever its working directory.
    @Test func gridArgumentsResolveDefaultsAndPaths() throws {
        let command = try #require(try DeepLense.parseAsRoot(["compare", "--profile", "small", "--out", "rel/out", "--methods", "adda",
                                                               "--epochs", "2", "--adaptation-epochs", "1", "--emit", "slurm"]) as? CompareCommand)
        var plan = ComparisonPlan(profile: .small, backbones: ["resnet18"], methods: [.adda], seeds: [1, 2, 3],
                                  dataDirectory: URL(fileURLWithPath: "rel/out/data"), outputDirectory: URL(fileURLWithPath: "rel/out"))
        plan.inDomainCeiling = false
        let arguments = command.gridArguments(plan)
        let cwd = FileManager.default.currentDirectoryPath
        #expect(arguments == ["--profile", "small", "--backbones", "resnet18", "--methods", "adda", "--seeds", "1,2,3",
                              "--init", "source", "--selection", "source", "--no-ceiling",
                              "--data", cwd + "/rel/out/data", "--out", cwd + "/rel/out", "--epochs", "2",
                              "--adaptation-epochs", "1"])
        let again = try #require(try DeepLense.parseAsRoot(["compare"] + arguments + ["--cell", "0"]) as? CompareCommand)
        #expect(again.grid.cell == 0 && again.epochs == 2 && again.adaptationEpochs == 1 && again.ceiling == false)
    }
}
