import Core
import Foundation

extension ComparisonPlan {
    /// The methods a comparison trains, in table order: source-only first when it is asked for or when an adapting
    /// method starts from the shared source-only model, then the other methods as given.
    public var trainedMethods: [MethodKind] {
        var methods = self.methods.filter { $0 != .sourceOnly }
        if self.methods.contains(.sourceOnly) || methods.contains(where: { configuration($0, backbone: "", seed: 0).startsFromSource }) {
            methods.insert(.sourceOnly, at: 0)
        }
        return methods
    }

    /// The runs in the order the serial `compare` trains them and lists them in `results.json`: per seed, per backbone,
    /// `trainedMethods` and then the in-domain ceiling (a nil method).
    public var runOrder: [(backbone: String, method: MethodKind?, seed: UInt64)] {
        var runs: [(backbone: String, method: MethodKind?, seed: UInt64)] = []
        for seed in seeds {
            for backbone in backbones {
                for method in trainedMethods { runs.append((backbone, method, seed)) }
                if inDomainCeiling { runs.append((backbone, nil, seed)) }
            }
        }
        return runs
    }
}

/// One run of a comparison grid, addressed by a fixed index (`deeplense compare ... --cell K`).
public struct GridCell: Equatable, Sendable {
    /// Supervised cells (source-only, in-domain ceiling) come first; adaptation cells may start from a supervised cell's
    /// selected model, so they run after all supervised cells.
    public enum Stage: String, Sendable { case supervised, adaptation }

    public var index: Int
    public var stage: Stage
    public var backbone: String
    /// nil: the in-domain ceiling.
    public var method: MethodKind?
    public var seed: UInt64
    /// The index of the source-only cell whose selected model this cell starts from.
    public var needs: Int?

    public var methodName: String { method?.rawValue ?? ComparisonResults.inDomainMethod }
}

/// The comparison as independent cells, for batch systems (Slurm job arrays, or a shell loop): a prepare step
/// simulates the data once, each cell trains one run, and a collect step builds the results from finished cells.
///
/// Index order (fixed, written to `cells.tsv`): first the supervised stage, per seed, per backbone: source-only, then the
/// in-domain ceiling; then the adaptation stage, per seed, per backbone, per method in the order given.
public struct ComparisonGrid: Sendable {
    public let plan: ComparisonPlan
    public let cells: [GridCell]

    /// The table file of the cell mapping, in the output directory.
    public static let tableName = "cells.tsv"
    /// What a cell that failed leaves in its run directory (removed when the cell later succeeds).
    public static let failureName = "cell-failed.txt"

    public init(_ plan: ComparisonPlan) {
        self.plan = plan
        let methods = plan.trainedMethods
        var cells: [GridCell] = []
        var sourceCell: [String: Int] = [:]
        for seed in plan.seeds {
            for backbone in plan.backbones {
                var supervised: [MethodKind?] = methods.contains(.sourceOnly) ? [.sourceOnly] : []
                if plan.inDomainCeiling { supervised.append(nil) }
                for method in supervised {
                    if method == .sourceOnly { sourceCell["\(backbone) \(seed)"] = cells.count }
                    cells.append(GridCell(index: cells.count, stage: .supervised, backbone: backbone, method: method, seed: seed))
                }
            }
        }
        for seed in plan.seeds {
            for backbone in plan.backbones {
                for method in methods where method != .sourceOnly {
                    let needs = plan.configuration(method, backbone: backbone, seed: seed).startsFromSource
                        ? sourceCell["\(backbone) \(seed)"] : nil
                    cells.append(GridCell(index: cells.count, stage: .adaptation, backbone: backbone, method: method, seed: seed,
                                          needs: needs))
                }
            }
        }
        self.cells = cells
    }

    /// The indices of one stage's cells (contiguous).
    public func indices(of stage: GridCell.Stage) -> ClosedRange<Int>? {
        let chosen = cells.filter { $0.stage == stage }.map(\.index)
        guard let first = chosen.first, let last = chosen.last else { return nil }
        return first...last
    }

    /// The run directory of a cell.
    public func runDirectory(_ cell: GridCell) -> URL {
        Comparison.runDirectory(plan, backbone: cell.backbone, method: cell.method, seed: cell.seed)
    }

    /// The cell mapping as tab-separated text: `cell stage backbone method seed needs run_directory`, one header line.
    public var table: String {
        var lines = ["cell\tstage\tbackbone\tmethod\tseed\tneeds\trun_directory"]
        for cell in cells {
            lines.append([String(cell.index), cell.stage.rawValue, cell.backbone, cell.methodName, String(cell.seed),
                          cell.needs.map(String.init) ?? "-", runDirectory(cell).path].joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var tableURL: URL { plan.outputDirectory.appendingPathComponent(ComparisonGrid.tableName) }

    /// Writes `cells.tsv`, refusing an output directory whose table describes another grid.
    public func writeTable() throws {
        try checkTable()
        try FileManager.default.createDirectory(at: plan.outputDirectory, withIntermediateDirectories: true)
        try Data(table.utf8).writeAtomically(to: tableURL)
    }

    /// Refuses to work on an output directory whose `cells.tsv` maps indices to other cells (a command run with other
    /// options than the ones that made the grid).
    public func checkTable() throws {
        guard let saved = try? String(contentsOf: tableURL, encoding: .utf8), saved != table else { return }
        throw ValidationFailure("\(tableURL.path) describes another grid than these options give: run every step with "
            + "the options the grid was made with, or use another --out")
    }

    /// The prepare step: simulates the data when it is missing (or checks the existing data) and writes `cells.tsv`.
    public func prepare(log: (String) -> Void) throws {
        try writeTable()
        _ = try Comparison.prepareData(plan, log: log)
        log("grid of \(cells.count) cells written to \(tableURL.path)")
    }

    /// Trains one cell, skipping it when it has finished and resuming it from its checkpoint when interrupted. Needs the
    /// prepared data and, for a cell that starts from the source-only model, that cell finished. A failure is recorded in
    /// the cell's run directory for `collect` and rethrown.
    @discardableResult
    public func run(cell index: Int, makeBackbone: @escaping BackboneBuilder = Experiment.factoryBackbone,
                    log: (String) -> Void) throws -> ComparisonRun {
        guard cells.indices.contains(index) else {
            throw ValidationFailure("cell \(index) does not exist: this grid has \(cells.count) cells, 0-\(cells.count - 1) "
                + "(see \(tableURL.path))")
        }
        try checkTable()
        let cell = cells[index]
        let label = "cell \(index) (\(cell.backbone) \(cell.methodName) seed \(cell.seed))"
        if let saved = try Comparison.finishedRun(plan, backbone: cell.backbone, method: cell.method, seed: cell.seed) {
            log("\(label): finished earlier, \(String(format: "%.2f%% / %.3f", saved.accuracy, saved.aurocMacro))")
            return saved
        }
        let directory = runDirectory(cell)
        let failureURL = directory.appendingPathComponent(ComparisonGrid.failureName)
        do {
            if let needed = cell.needs,
               try Comparison.finishedRun(plan, backbone: cells[needed].backbone, method: .sourceOnly, seed: cell.seed) == nil {
                throw ValidationFailure("\(label) starts from the source-only model of cell \(needed), which has not finished")
            }
            let data = try Comparison.prepareData(plan, simulating: false) { _ in }
            log("\(label): training")
            let record = try Comparison.train(plan, backbone: cell.backbone, method: cell.method, seed: cell.seed, data: data,
                                              makeBackbone: makeBackbone)
            try? FileManager.default.removeItem(at: failureURL)
            log("\(label): \(String(format: "%.2f%% / %.3f", record.accuracy, record.aurocMacro)) in \(ProgressBar.clock(record.seconds))")
            return record
        } catch {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? Data("\(error)\n".utf8).writeAtomically(to: failureURL)
            throw error
        }
    }

    /// The collect step: writes `results.json`, `results.md` and the plots from the finished cells (in the serial
    /// comparison's order, so a complete grid gives the serial comparison's results), then throws
    /// `ComparisonGridIncomplete` naming every missing or failed cell, if any.
    @discardableResult
    public func collect(log: (String) -> Void) throws -> ComparisonResults {
        try checkTable()
        var runs: [ComparisonRun] = []
        var failed: [(GridCell, String)] = [], missing: [GridCell] = []
        for (backbone, method, seed) in plan.runOrder {
            let cell = cells.first { $0.backbone == backbone && $0.method == method && $0.seed == seed }!
            if let run = try Comparison.finishedRun(plan, backbone: backbone, method: method, seed: seed) {
                runs.append(run)
            } else if let reason = try? String(contentsOf: runDirectory(cell).appendingPathComponent(ComparisonGrid.failureName),
                                               encoding: .utf8) {
                failed.append((cell, reason.split(separator: "\n").first.map(String.init) ?? "unknown error"))
            } else {
                missing.append(cell)
            }
        }
        let prefixes = Comparison.dataPrefixes(in: plan.dataDirectory)
        let origin = prefixes.map { Comparison.existingDataOrigin(plan.dataDirectory, source: $0.source, target: $0.target) }
            ?? "no complete data in \(plan.dataDirectory.path)"
        let results = ComparisonResults(profile: plan.profile, dataDirectory: plan.dataDirectory.path, dataOrigin: origin,
                                        backbones: plan.backbones, methods: plan.trainedMethods.map(\.rawValue), seeds: plan.seeds,
                                        runs: runs, targetName: prefixes.map { Comparison.targetName(plan, targetPrefix: $0.target) })
        try FileManager.default.createDirectory(at: plan.outputDirectory, withIntermediateDirectories: true)
        try Comparison.write(results, plan: plan)
        log("collected \(runs.count) of \(cells.count) cells into \(plan.outputDirectory.appendingPathComponent("results.json").path)")
        if !failed.isEmpty || !missing.isEmpty {
            failed.sort { $0.0.index < $1.0.index }
            missing.sort { $0.index < $1.index }
            throw ComparisonGridIncomplete(failed: failed.map { ($0.0.index, $0.0.backbone, $0.0.methodName, $0.0.seed, $0.1) },
                                           missing: missing.map { ($0.index, $0.backbone, $0.methodName, $0.seed) })
        }
        return results
    }
}

/// The collect step found cells without a finished run.
public struct ComparisonGridIncomplete: Error, CustomStringConvertible {
    public let failed: [(index: Int, backbone: String, method: String, seed: UInt64, reason: String)]
    /// Not run, still running, or stopped without a record (e.g. a time limit).
    public let missing: [(index: Int, backbone: String, method: String, seed: UInt64)]

    public var description: String {
        var parts: [String] = []
        if !failed.isEmpty {
            parts.append("failed cells: " + failed.map { "\($0.index) (\($0.backbone) \($0.method) seed \($0.seed): \($0.reason))" }
                .joined(separator: "; "))
        }
        if !missing.isEmpty {
            parts.append("missing cells: " + missing.map { "\($0.index) (\($0.backbone) \($0.method) seed \($0.seed))" }
                .joined(separator: ", "))
        }
        return "the results are incomplete; " + parts.joined(separator: "; ")
            + ". Rerun those cells with --cell (finished cells are skipped), then --collect again"
    }
}
