import Foundation

/// Resource requests written into every job script of a Slurm grid (`sbatch` options of the same names).
public struct SlurmOptions: Equatable, Sendable {
    public var partition: String?
    /// Wall-clock limit per job in a Slurm time format (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`).
    public var time: String?
    /// CPUs of each prepare and cell job; the cell's `--threads`.
    public var cpusPerTask = 4
    /// Memory per job (`sbatch --mem`: a number with an optional K, M, G or T suffix).
    public var memory: String?
    /// At most this many cells of an array run at once (`--array=...%N`).
    public var maxParallel: Int?
    public var account: String?

    public init() {}

    /// Checks every value, naming the option and the accepted form.
    public func validate() throws {
        if let partition, !SlurmOptions.isName(partition) {
            throw ValidationFailure("--partition '\(partition)' is not a Slurm partition name (letters, digits, _ . - and commas)")
        }
        if let account, !SlurmOptions.isName(account) {
            throw ValidationFailure("--account '\(account)' is not a Slurm account name (letters, digits, _ . -)")
        }
        if let time, !SlurmOptions.isTime(time) {
            throw ValidationFailure("--time '\(time)' is not a Slurm time: use MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
        }
        if let memory, !SlurmOptions.isMemory(memory) {
            throw ValidationFailure("--mem '\(memory)' is not a Slurm memory size: a whole number with an optional K, M, G or T suffix")
        }
        guard cpusPerTask >= 1 else { throw ValidationFailure("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
        if let maxParallel, maxParallel < 1 { throw ValidationFailure("--max-parallel must be at least 1, got \(maxParallel)") }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "_.,-".unicodeScalars.contains($0) }
    }

    static func isMemory(_ text: String) -> Bool {
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    static func isTime(_ text: String) -> Bool {
        func numbers(_ part: Substring) -> [Substring]? {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            return fields.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } } ? fields : nil
        }
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch dayParts.count {
        case 1: return numbers(dayParts[0]).map { (1...3).contains($0.count) } ?? false
        case 2: return numbers(dayParts[0])?.count == 1 && (numbers(dayParts[1]).map { (1...3).contains($0.count) } ?? false)
        default: return false
        }
    }
}

/// The job scripts of a comparison grid on Slurm: `prepare.sbatch` (simulates the data once), `supervised.sbatch` and
/// `adaptation.sbatch` (job arrays whose task IDs are the grid's cell indices), `collect.sbatch`, and `submit.sh`, which
/// chains them: prepare -> afterok -> supervised cells -> afterany -> adaptation cells -> afterany -> collect. Adaptation
/// cells check for the source-only model they start from themselves, so a failed cell stops only the cells that need it;
/// `collect` names every cell without a result.
public enum SlurmScripts {
    /// The scripts' file names and contents.
    /// - Parameters:
    ///   - executable: the `deeplense` binary (the `DEEPLENSE` environment variable overrides it at submission).
    ///   - arguments: the `compare` options that define the grid (`--out` and `--data` absolute), given to every job.
    public static func make(grid: ComparisonGrid, executable: String, arguments: [String],
                            options: SlurmOptions) -> [(name: String, text: String)] {
        let logs = logDirectory(grid).path
        let command = "\"$DEEPLENSE\" compare " + arguments.map(shellQuoted).joined(separator: " ") + " --quiet"
        func script(_ name: String, array: ClosedRange<Int>?, cpus: Int, run: String) -> String {
            var lines = ["#!/bin/bash", "#SBATCH --job-name=deeplense-\(name)"]
            if let array {
                lines.append("#SBATCH --array=\(array.lowerBound)-\(array.upperBound)" + (options.maxParallel.map { "%\($0)" } ?? ""))
                lines.append("#SBATCH --requeue")
                lines.append("#SBATCH --output=\(logs)/%x-%A_%a.out")
            } else {
                lines.append("#SBATCH --output=\(logs)/%x-%j.out")
            }
            lines.append("#SBATCH --cpus-per-task=\(cpus)")
            if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
            if let account = options.account { lines.append("#SBATCH --account=\(account)") }
            if let time = options.time { lines.append("#SBATCH --time=\(time)") }
            if let memory = options.memory { lines.append("#SBATCH --mem=\(memory)") }
            lines += ["set -euo pipefail", "DEEPLENSE=${DEEPLENSE:-\(shellQuoted(executable))}", "exec " + run]
            return lines.joined(separator: "\n") + "\n"
        }
        let threads = "--threads \"${SLURM_CPUS_PER_TASK:-\(options.cpusPerTask)}\""
        var files = [("prepare.sbatch", script("prepare", array: nil, cpus: options.cpusPerTask, run: "\(command) --prepare \(threads)"))]
        var submit = ["#!/usr/bin/env bash",
                      "# Submits the comparison grid of \(grid.plan.outputDirectory.path) (cell table: \(ComparisonGrid.tableName)).",
                      "# Usage: submit.sh [--wait] [sbatch options for every job]. With --wait it returns when the collect job",
                      "# ends, with its exit status. DEEPLENSE=/path/to/deeplense overrides the binary.",
                      "set -euo pipefail", "cd \"$(dirname \"$0\")\"", "wait=()",
                      "if [ \"${1:-}\" = --wait ]; then wait=(--wait); shift; fi",
                      "mkdir -p \(shellQuoted(logs))",
                      "submit() { local id; id=$(sbatch --parsable \"$@\"); echo \"${id%%;*}\"; }",
                      "prepare=$(submit \"$@\" prepare.sbatch)", "echo \"prepare job $prepare\""]
        var after = "afterok:$prepare", finished = ["$prepare"]
        for stage in [GridCell.Stage.supervised, .adaptation] {
            guard let range = grid.indices(of: stage) else { continue }
            let name = stage.rawValue
            files.append(("\(name).sbatch", script(name, array: range, cpus: options.cpusPerTask,
                                                   run: "\(command) --cell \"$SLURM_ARRAY_TASK_ID\" \(threads)")))
            submit += ["\(name)=$(submit \"$@\" --dependency=\(after) --kill-on-invalid-dep=yes \(name).sbatch)",
                       "echo \"\(name) cells \(range.lowerBound)-\(range.upperBound): array job $\(name)\""]
            after = "afterok:$prepare,afterany:$\(name)"
            finished.append("$\(name)")
        }
        files.append(("collect.sbatch", script("collect", array: nil, cpus: 1, run: "\(command) --collect")))
        submit += ["echo \"collect job follows; logs in \(logs)\"",
                   "exec sbatch \"${wait[@]}\" --parsable \"$@\" --dependency=afterany:\(finished.joined(separator: ":")) collect.sbatch"]
        files.append(("submit.sh", submit.joined(separator: "\n") + "\n"))
        return files
    }

    /// The scripts' directory: `<out>/slurm`.
    public static func directory(_ grid: ComparisonGrid) -> URL {
        grid.plan.outputDirectory.appendingPathComponent("slurm", isDirectory: true)
    }

    static func logDirectory(_ grid: ComparisonGrid) -> URL { directory(grid).appendingPathComponent("logs", isDirectory: true) }

    /// Writes the scripts (executable) and the grid's `cells.tsv`; starts nothing. Returns the script directory.
    @discardableResult
    public static func write(grid: ComparisonGrid, executable: String, arguments: [String], options: SlurmOptions) throws -> URL {
        try options.validate()
        if let blank = [grid.plan.outputDirectory.path, executable].first(where: { $0.contains(where: \.isWhitespace) }) {
            throw ValidationFailure("'\(blank)' contains white space, which #SBATCH lines cannot hold: use a path without it")
        }
        try grid.writeTable()
        let directory = directory(grid)
        try FileManager.default.createDirectory(at: logDirectory(grid), withIntermediateDirectories: true)
        for (name, text) in make(grid: grid, executable: executable, arguments: arguments, options: options) {
            let url = directory.appendingPathComponent(name)
            try Data(text.utf8).writeAtomically(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        return directory
    }

    /// `text` as one shell word.
    public static func shellQuoted(_ text: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+-@%")
        if !text.isEmpty && text.unicodeScalars.allSatisfy(plain.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
