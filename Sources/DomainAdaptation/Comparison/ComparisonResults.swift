import Foundation

/// One finished training run of a comparison.
public struct ComparisonRun: Codable, Equatable, Sendable {
    public var backbone: String
    public var method: String
    public var seed: UInt64
    /// Target test accuracy in percent and macro / micro AUROC.
    public var accuracy: Double
    public var aurocMacro: Double
    public var aurocMicro: Double
    public var seconds: Double
    public var bestEpoch: Int?
    /// Source-only runs are also evaluated on the source test set.
    public var sourceAccuracy: Double?
    public var sourceAurocMacro: Double?
    /// The training length the run was made with (a finished run is reused only by a comparison that asks for the same).
    public var epochs: Int?
    public var batchSize: Int?

    public init(backbone: String, method: String, seed: UInt64, accuracy: Double, aurocMacro: Double, aurocMicro: Double,
                seconds: Double, bestEpoch: Int?, sourceAccuracy: Double? = nil, sourceAurocMacro: Double? = nil,
                epochs: Int? = nil, batchSize: Int? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.backbone = backbone
        self.method = method
        self.seed = seed
        self.accuracy = accuracy
        self.aurocMacro = aurocMacro
        self.aurocMicro = aurocMicro
        self.seconds = seconds
        self.bestEpoch = bestEpoch
        self.sourceAccuracy = sourceAccuracy
        self.sourceAurocMacro = sourceAurocMacro
    }
}

/// Mean and sample standard deviation over seeds.
public struct MeanStd: Codable, Equatable, Sendable {
    public var mean: Double
    public var std: Double
    public var count: Int

    public init(_ values: [Double]) {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        let m = mean
        std = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
    }

    /// `mean ± std` with the given number of decimals (no ± for a single value).
    public func formatted(_ decimals: Int) -> String {
        count > 1 ? String(format: "%.\(decimals)f ± %.\(decimals)f", mean, std) : String(format: "%.\(decimals)f", mean)
    }
}

/// One cell of the comparison table: a backbone and method over all seeds.
public struct ComparisonCell: Codable, Equatable, Sendable {
    public var backbone: String
    public var method: String
    public var accuracy: MeanStd
    public var aurocMacro: MeanStd
    /// Mean accuracy gain over the same backbone's source-only runs, in points (nil for source-only itself).
    public var gainOverSourceOnly: Double?
    public var seconds: MeanStd
}

/// Everything `deeplense compare` writes to `results.json`.
public struct ComparisonResults: Codable, Sendable {
    public var profile: ComparisonProfile
    public var dataDirectory: String
    public var dataOrigin: String
    public var backbones: [String]
    public var methods: [String]
    public var seeds: [UInt64]
    public var runs: [ComparisonRun]
    public var cells: [ComparisonCell]
    /// Source-only models evaluated on the source test set, per backbone.
    public var sourceOnSource: [String: MeanStd]
    public var note: String

    public init(profile: ComparisonProfile, dataDirectory: String, dataOrigin: String, backbones: [String], methods: [String],
                seeds: [UInt64], runs: [ComparisonRun]) {
        self.profile = profile
        self.dataDirectory = dataDirectory
        self.dataOrigin = dataOrigin
        self.backbones = backbones
        self.methods = methods
        self.seeds = seeds
        self.runs = runs
        note = profile.note
        var cells: [ComparisonCell] = []
        var sourceOnSource: [String: MeanStd] = [:]
        for backbone in backbones {
            let baseline = runs.filter { $0.backbone == backbone && $0.method == "source-only" }
            let baselineAccuracy = baseline.isEmpty ? nil : MeanStd(baseline.map(\.accuracy)).mean
            let sourceValues = baseline.compactMap(\.sourceAccuracy)
            if !sourceValues.isEmpty { sourceOnSource[backbone] = MeanStd(sourceValues) }
            for method in methods {
                let selected = runs.filter { $0.backbone == backbone && $0.method == method }
                guard !selected.isEmpty else { continue }
                let accuracy = MeanStd(selected.map(\.accuracy))
                cells.append(ComparisonCell(
                    backbone: backbone, method: method, accuracy: accuracy, aurocMacro: MeanStd(selected.map(\.aurocMacro)),
                    gainOverSourceOnly: method == "source-only" ? nil : baselineAccuracy.map { accuracy.mean - $0 },
                    seconds: MeanStd(selected.map(\.seconds))))
            }
        }
        self.cells = cells
        self.sourceOnSource = sourceOnSource
    }

    public func cell(_ backbone: String, _ method: String) -> ComparisonCell? {
        cells.first { $0.backbone == backbone && $0.method == method }
    }

    /// The human table: target accuracy / macro AUROC per backbone (rows) and method (columns), gains, source on
    /// source, and run times.
    public var markdown: String {
        var lines = ["# Model A -> Model B: backbone comparison", "",
                     "Profile `\(profile.name)`: \(profile.imageSize)x\(profile.imageSize) images, \(profile.trainCount) train / "
                        + "\(profile.testCount) test per domain, \(profile.epochs) epochs, batch \(profile.batchSize); seeds "
                        + seeds.map(String.init).joined(separator: ", ") + ". Data: \(dataOrigin).", "",
                     "> \(note)", "",
                     "## Target test (Model B): accuracy % / macro AUROC (mean ± std over seeds)", "",
                     "| backbone | " + methods.joined(separator: " | ") + " |",
                     "|---|" + methods.map { _ in "---|" }.joined()]
        for b in backbones {
            lines.append("| \(b) | " + methods.map { m in
                cell(b, m).map { "\($0.accuracy.formatted(2)) / \($0.aurocMacro.formatted(3))" } ?? "-"
            }.joined(separator: " | ") + " |")
        }
        lines += ["", "## Gain over source-only (accuracy points)", "",
                  "| backbone | " + methods.joined(separator: " | ") + " |", "|---|" + methods.map { _ in "---|" }.joined()]
        for b in backbones {
            lines.append("| \(b) | " + methods.map { m in
                cell(b, m)?.gainOverSourceOnly.map { String(format: "%+.2f", $0) } ?? "-"
            }.joined(separator: " | ") + " |")
        }
        lines += ["", "## Source-only model on the source test set (Model A)", "", "| backbone | accuracy % |", "|---|---|"]
        for b in backbones { lines.append("| \(b) | \(sourceOnSource[b]?.formatted(2) ?? "-") |") }
        lines += ["", "## Run time per run (seconds, 2 cores)", "",
                  "| backbone | " + methods.joined(separator: " | ") + " |", "|---|" + methods.map { _ in "---|" }.joined()]
        for b in backbones {
            lines.append("| \(b) | " + methods.map { m in cell(b, m).map { $0.seconds.formatted(0) } ?? "-" }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
