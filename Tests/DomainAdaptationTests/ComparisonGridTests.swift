import Backbones
import Core
import DomainAdaptation
import Foundation
import Testing

@Suite struct ComparisonGridTests {
    static func plan(_ root: URL = URL(fileURLWithPath: "/grid"), backbones: [String] = ["resnet18", "c8resnet"],
                     methods: [MethodKind] = [.adabn, .adda], seeds: [UInt64] = [1, 2]) -> ComparisonPlan {
        var plan = ComparisonPlan(profile: .small, backbones: backbones, methods: methods, seeds: seeds,
                                  dataDirectory: root.appendingPathComponent("data"), outputDirectory: root)
        plan.showProgress = false
        return plan
    }

    /// Supervised cells first (per seed, per backbone: source-only, in-domain), then adaptation cells (per seed, per
    /// backbone, per method), each pointing at the source-only cell it starts from.
    @Test func cellIndicesFollowTheDocumentedOrder() {
        let grid = ComparisonGrid(Self.plan())
        #expect(grid.cells.count == 2 * 2 * 2 + 2 * 2 * 2)
        #expect(grid.indices(of: .supervised) == 0...7 && grid.indices(of: .adaptation) == 8...15)
        let expected: [(String, String, UInt64, Int?)] = [
            ("resnet18", "source-only", 1, nil), ("resnet18", "in-domain", 1, nil), ("c8resnet", "source-only", 1, nil),
            ("c8resnet", "in-domain", 1, nil), ("resnet18", "source-only", 2, nil), ("resnet18", "in-domain", 2, nil),
            ("c8resnet", "source-only", 2, nil), ("c8resnet", "in-domain", 2, nil),
            ("resnet18", "adabn", 1, 0), ("resnet18", "adda", 1, 0), ("c8resnet", "adabn", 1, 2), ("c8resnet", "adda", 1, 2),
            ("resnet18", "adabn", 2, 4), ("resnet18", "adda", 2, 4), ("c8resnet", "adabn", 2, 6), ("c8resnet", "adda", 2, 6)]
        for (cell, (backbone, method, seed, needs)) in zip(grid.cells, expected) {
            #expect(cell.backbone == backbone && cell.methodName == method && cell.seed == seed && cell.needs == needs,
                    "cell \(cell.index)")
        }
        #expect(grid.cells.map(\.index) == Array(0..<16))
        let rows = grid.table.split(separator: "\n")
        #expect(rows.count == 17 && rows[0] == "cell\tstage\tbackbone\tmethod\tseed\tneeds\trun_directory")
        #expect(rows[11] == "10\tadaptation\tc8resnet\tadabn\t1\t2\t/grid/runs/c8resnet/adabn/seed-1")
        #expect(rows[2] == "1\tsupervised\tresnet18\tin-domain\t1\t-\t/grid/runs/resnet18/in-domain/seed-1")
    }

    /// Methods that start from scratch need no source-only cell; without a ceiling there is no supervised stage.
    @Test func scratchMethodsWithoutCeilingHaveOnlyAdaptationCells() {
        var plan = Self.plan(backbones: ["resnet18"], methods: [.selfEnsemble, .cgdm], seeds: [3])
        plan.initialization = .scratch
        plan.inDomainCeiling = false
        let grid = ComparisonGrid(plan)
        #expect(grid.cells.map(\.methodName) == ["self-ensemble", "cgdm"] && grid.cells.allSatisfy { $0.needs == nil })
        #expect(grid.indices(of: .supervised) == nil && grid.indices(of: .adaptation) == 0...1)
        // AdaBN always starts from the source model, so it brings a source-only cell back.
        plan.methods = [.selfEnsemble, .adabn]
        let withSource = ComparisonGrid(plan)
        #expect(withSource.cells.map(\.methodName) == ["source-only", "self-ensemble", "adabn"])
        #expect(withSource.cells.map(\.needs) == [nil, nil, 0])
    }

    @Test func scriptsChainTheStagesAndPassTheOptions() throws {
        let grid = ComparisonGrid(Self.plan())
        var options = SlurmOptions()
        options.partition = "cpu"
        options.time = "1-12:00:00"
        options.cpusPerTask = 8
        options.memory = "16G"
        options.maxParallel = 5
        options.account = "lens_lab"
        let files = Dictionary(uniqueKeysWithValues: SlurmScripts.make(
            grid: grid, executable: "/opt/deeplense", arguments: ["--profile", "small", "--out", "/grid", "--data", "/my data"],
            options: options).map { ($0.name, $0.text) })
        #expect(Set(files.keys) == ["prepare.sbatch", "supervised.sbatch", "adaptation.sbatch", "collect.sbatch", "submit.sh"])
        let supervised = try #require(files["supervised.sbatch"]), adaptation = try #require(files["adaptation.sbatch"])
        #expect(supervised.contains("#SBATCH --array=0-7%5\n") && adaptation.contains("#SBATCH --array=8-15%5\n"))
        for text in files.values where text.hasPrefix("#!/bin/bash") {
            for line in ["#SBATCH --partition=cpu", "#SBATCH --time=1-12:00:00", "#SBATCH --mem=16G", "#SBATCH --account=lens_lab",
                         "DEEPLENSE=${DEEPLENSE:-/opt/deeplense}"] {
                #expect(text.contains(line + "\n"), "\(line) missing in\n\(text)")
            }
            #expect(text.contains("\"$DEEPLENSE\" compare --profile small --out /grid --data '/my data' --quiet"))
        }
        #expect(supervised.contains("#SBATCH --cpus-per-task=8\n#SBATCH") && supervised.contains("#SBATCH --requeue\n"))
        #expect(supervised.contains("--cell \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-8}\""))
        #expect(try #require(files["prepare.sbatch"]).contains("--quiet --prepare --threads"))
        #expect(try #require(files["collect.sbatch"]).contains("#SBATCH --cpus-per-task=1\n"))
        #expect(try #require(files["collect.sbatch"]).hasSuffix("--quiet --collect\n"))
        let submit = try #require(files["submit.sh"])
        let order = ["prepare=$(submit \"$@\" prepare.sbatch)",
                     "supervised=$(submit \"$@\" --dependency=afterok:$prepare --kill-on-invalid-dep=yes supervised.sbatch)",
                     "adaptation=$(submit \"$@\" --dependency=afterok:$prepare,afterany:$supervised --kill-on-invalid-dep=yes adaptation.sbatch)",
                     "exec sbatch \"${wait[@]}\" --parsable \"$@\" --dependency=afterany:$prepare:$supervised:$adaptation collect.sbatch"]
        let positions = order.map { submit.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(submit)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())

        // Defaults: no optional directives, no array throttle, 4 CPUs.
        let plain = SlurmScripts.make(grid: grid, executable: "/opt/deeplense", arguments: [], options: SlurmOptions())
        let text = try #require(plain.first { $0.name == "supervised.sbatch" }).text
        #expect(text.contains("#SBATCH --array=0-7\n") && text.contains("#SBATCH --cpus-per-task=4\n"))
        #expect(!text.contains("--partition") && !text.contains("--time") && !text.contains("--mem") && !text.contains("--account"))
    }

    /// A grid with no supervised stage chains the adaptation array straight after prepare.
    @Test func scriptsSkipAnEmptyStage() throws {
        var plan = Self.plan(backbones: ["resnet18"], methods: [.cgdm], seeds: [1])
        plan.initialization = .scratch
        plan.inDomainCeiling = false
        let files = SlurmScripts.make(grid: ComparisonGrid(plan), executable: "/d", arguments: [], options: SlurmOptions())
        #expect(!files.map(\.name).contains("supervised.sbatch"))
        let submit = try #require(files.first { $0.name == "submit.sh" }).text
        #expect(submit.contains("adaptation=$(submit \"$@\" --dependency=afterok:$prepare --kill-on-invalid-dep=yes adaptation.sbatch)"))
        #expect(submit.contains("--dependency=afterany:$prepare:$adaptation collect.sbatch"))
    }

    @Test(arguments: [
        ("time", "1:2:3:4", "is not a Slurm time"), ("time", "2-", "is not a Slurm time"), ("time", "abc", "is not a Slurm time"),
        ("mem", "16GB", "is not a Slurm memory size"), ("mem", "G", "is not a Slurm memory size"),
        ("partition", "cpu;rm", "is not a Slurm partition name"), ("account", "a b", "is not a Slurm account name"),
    ])
    func badSlurmOptionsAreRefused(option: String, value: String, message: String) {
        var options = SlurmOptions()
        switch option {
        case "time": options.time = value
        case "mem": options.memory = value
        case "partition": options.partition = value
        default: options.account = value
        }
        #expect { try options.validate() } throws: { "\($0)".contains(message) }
    }

    @Test func goodSlurmOptionsPass() throws {
        for time in ["30", "30:00", "12:00:00", "2-0", "2-12:30", "7-00:00:00"] {
            var options = SlurmOptions()
            options.time = time
            options.memory = "16000M"
            options.partition = "gpu,cpu"
            try options.validate()
        }
        #expect(SlurmScripts.shellQuoted("it's") == "'it'\\''s'" && SlurmScripts.shellQuoted("/a/b-c,d") == "/a/b-c,d")
    }

    /// The grid run cell by cell (in index order, as a shell loop would) gives the serial comparison's runs and
    /// results; cells refuse to run out of order or without data, failures and gaps are named by collect, and a
    /// finished cell is skipped on resubmission.
    @Test func cellsThenCollectEqualTheSerialComparison() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("grid-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let profile = tinyComparisonProfile
        func plan(_ name: String) -> ComparisonPlan {
            var plan = ComparisonPlan(profile: profile, backbones: ["tiny"], methods: [.adabn, .adda], seeds: [1, 2],
                                      dataDirectory: root.appendingPathComponent("\(name)/data"),
                                      outputDirectory: root.appendingPathComponent(name))
            plan.showProgress = false
            return plan
        }
        let serial = try Comparison.run(plan("serial"), makeBackbone: tinyBuilder) { _ in }

        let grid = ComparisonGrid(plan("grid"))
        #expect(grid.cells.count == 8)
        #expect { try grid.collect { _ in } } throws: { error in
            "\(error)".contains("missing cells: 0 (tiny source-only seed 1), 1 (tiny in-domain seed 1), 2 (tiny source-only seed 2)")
        }
        #expect { try grid.run(cell: 0, makeBackbone: tinyBuilder) { _ in } } throws: { "\($0)".contains("run the prepare step") }
        #expect { try grid.run(cell: 8, makeBackbone: tinyBuilder) { _ in } } throws: { "\($0)".contains("this grid has 8 cells, 0-7") }
        try grid.prepare { _ in }
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("grid/cells.tsv").path))

        // An adaptation cell before its source-only cell fails, leaving a note collect reports.
        let adabn = try #require(grid.cells.first { $0.method == .adabn && $0.seed == 1 })
        #expect { try grid.run(cell: adabn.index, makeBackbone: tinyBuilder) { _ in } } throws: {
            "\($0)".contains("starts from the source-only model of cell 0, which has not finished")
        }
        try grid.run(cell: 0, makeBackbone: tinyBuilder) { _ in }
        #expect { try grid.collect { _ in } } throws: { error in
            let text = "\(error)"
            return text.contains("failed cells: \(adabn.index) (tiny adabn seed 1: ")
                && text.contains("missing cells: 1 (tiny in-domain seed 1), 2 (tiny source-only seed 2)")
                && !text.contains("missing cells: 0")
        }
        let partial = try JSONDecoder().decode(ComparisonResults.self, from: Data(contentsOf: root.appendingPathComponent("grid/results.json")))
        #expect(partial.runs.map(\.method) == ["source-only"])

        for cell in grid.cells { try grid.run(cell: cell.index, makeBackbone: tinyBuilder) { _ in } }
        #expect(!FileManager.default.fileExists(atPath: grid.runDirectory(adabn).appendingPathComponent(ComparisonGrid.failureName).path))
        let collected = try grid.collect { _ in }
        func strip(_ runs: [ComparisonRun]) -> [ComparisonRun] { runs.map { var run = $0; run.seconds = 0; return run } }
        #expect(strip(collected.runs) == strip(serial.runs))
        #expect(collected.methods == serial.methods && collected.cells.map(\.accuracy) == serial.cells.map(\.accuracy))
        #expect(collected.inDomainCeiling == serial.inDomainCeiling && collected.sourceOnSource == serial.sourceOnSource)
        for name in ["results.md", "accuracy_by_method.svg", "roc_adabn.svg"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("grid/\(name)").path), "missing \(name)")
        }
        var lines: [String] = []
        try grid.run(cell: 3) { lines.append($0) }
        #expect(lines.count == 1 && lines[0].contains("finished earlier"))

        // Another grid in the same output directory is refused.
        var other = plan("grid")
        other.seeds = [1]
        #expect { try ComparisonGrid(other).collect { _ in } } throws: { "\($0)".contains("describes another grid") }
    }
}
