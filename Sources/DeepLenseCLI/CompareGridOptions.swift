import ArgumentParser
import DomainAdaptation
import Foundation

/// The batch-system side of `deeplense compare`: the grid as independent cells (`--prepare`, `--cell K`, `--collect`)
/// and the Slurm scripts that run them (`--emit slurm`).
struct CompareGridOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write batch-system scripts into <out>/slurm and start nothing (only: slurm).", valueName: "system"))
    var emit: String?
    @Flag(help: "Grid step 1: simulate the data once (or check it) and write <out>/cells.tsv, the cell index table.")
    var prepare = false
    @Option(help: ArgumentHelp("Grid step 2: train only cell K of <out>/cells.tsv (finished cells are skipped, interrupted ones resume).",
                               valueName: "K"))
    var cell: Int?
    @Flag(help: "Grid step 3: write the results and plots from the finished cells; fails naming missing or failed cells.")
    var collect = false
    @Option(help: "Slurm partition of every job (with --emit).")
    var partition: String?
    @Option(help: "Slurm time limit of every job, e.g. 2-00:00:00 (with --emit).")
    var time: String?
    @Option(help: "CPUs of each prepare and cell job, also its --threads (with --emit; default 4).")
    var cpusPerTask: Int?
    @Option(name: .customLong("mem"), help: "Memory of every job, e.g. 16G (with --emit).")
    var memory: String?
    @Option(help: "At most N cells of an array at once (with --emit).")
    var maxParallel: Int?
    @Option(help: "Slurm account of every job (with --emit).")
    var account: String?

    init() {}

    var slurmOptions: SlurmOptions {
        var options = SlurmOptions()
        options.partition = partition
        options.time = time
        if let cpusPerTask { options.cpusPerTask = cpusPerTask }
        options.memory = memory
        options.maxParallel = maxParallel
        options.account = account
        return options
    }

    func validate() throws {
        let modes = [emit.map { _ in "--emit" }, prepare ? "--prepare" : nil, cell.map { _ in "--cell" }, collect ? "--collect" : nil]
            .compactMap { $0 }
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: ", ")) cannot be combined: give one grid step at a time") }
        if let emit, emit != "slurm" { throw ValidationError("unknown --emit '\(emit)'; available: slurm") }
        if let cell, cell < 0 { throw ValidationError("--cell must be a non-negative cell index, got \(cell)") }
        let slurmOnly = [partition.map { _ in "--partition" }, time.map { _ in "--time" }, cpusPerTask.map { _ in "--cpus-per-task" },
                         memory.map { _ in "--mem" }, maxParallel.map { _ in "--max-parallel" }, account.map { _ in "--account" }]
            .compactMap { $0 }
        if emit == nil, let first = slurmOnly.first { throw ValidationError("\(first) only applies with --emit slurm") }
        do { try slurmOptions.validate() } catch { throw ValidationError("\(error)") }
    }

    /// Runs the chosen grid step; false when none was chosen (the serial comparison).
    func run(_ plan: ComparisonPlan, arguments: [String], log: (String) -> Void) throws -> Bool {
        let grid = ComparisonGrid(plan)
        if emit != nil {
            let directory = try SlurmScripts.write(grid: grid, executable: CompareGridOptions.executablePath, arguments: arguments,
                                                   options: slurmOptions)
            print("Wrote \(grid.cells.count) cells to \(plan.outputDirectory.appendingPathComponent(ComparisonGrid.tableName).path) "
                  + "and the Slurm scripts to \(directory.path). Submit with: \(directory.appendingPathComponent("submit.sh").path)")
        } else if prepare {
            try grid.prepare(log: log)
        } else if let cell {
            try grid.run(cell: cell, log: log)
        } else if collect {
            print(try grid.collect(log: log).markdown)
        } else {
            return false
        }
        return true
    }

    /// This program's absolute path (what the job scripts run).
    static var executablePath: String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

extension CompareCommand {
    /// The `compare` options that define `plan`, with every default resolved and paths absolute, for the grid's jobs.
    func gridArguments(_ plan: ComparisonPlan) -> [String] {
        var arguments = ["--profile", plan.profile.name, "--backbones", plan.backbones.joined(separator: ","),
                         "--methods", plan.methods.map(\.rawValue).joined(separator: ","),
                         "--seeds", plan.seeds.map(String.init).joined(separator: ","),
                         "--init", plan.initialization.rawValue, "--selection", plan.selection.rawValue,
                         plan.inDomainCeiling ? "--ceiling" : "--no-ceiling",
                         "--data", plan.dataDirectory.absoluteURL.standardizedFileURL.path, "--out", plan.outputDirectory.absoluteURL.standardizedFileURL.path]
        if plan.diagnoseTarget { arguments.append("--diagnose-target") }
        if let epochs { arguments += ["--epochs", String(epochs)] }
        if let adaptationEpochs { arguments += ["--adaptation-epochs", String(adaptationEpochs)] }
        return arguments
    }
}
