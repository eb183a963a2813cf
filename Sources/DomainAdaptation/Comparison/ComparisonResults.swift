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

/// The gain of a method over source-only paired by seed (each seed's adapted run minus the same seed's source-only run,
/// which is also the model it started from): mean, standard error and a 95 % Student-t interval.
public struct PairedGain: Codable, Equatable, Sendable {
    /// Mean gain in accuracy points.
    public var mean: Double
    /// Standard error of the mean (sample standard deviation / sqrt(n); 0 for one seed).
    public var standardError: Double
    /// Number of seeds paired.
    public var count: Int
    /// The 95 % interval `mean ± t(0.975, n-1) * standardError` (nil for one seed).
    public var lower: Double?
    public var upper: Double?

    public init(_ gains: [Double]) {
        let stats = MeanStd(gains)
        mean = stats.mean
        count = stats.count
        standardError = count > 1 ? stats.std / Double(count).squareRoot() : 0
        if count > 1 {
            let t = PairedGain.studentT975(degreesOfFreedom: count - 1)
            lower = mean - t * standardError
            upper = mean + t * standardError
        }
    }

    /// Whether the 95 % interval lies entirely above or below zero.
    public var excludesZero: Bool { guard let lower, let upper else { return false }; return lower > 0 || upper < 0 }

    /// `+1.23 ± 0.45 (n=3)`, with `*` when the interval excludes zero.
    public var formatted: String {
        count > 1 ? String(format: "%+.2f ± %.2f (n=%d)%@", mean, standardError, count, excludesZero ? " *" : "")
                  : String(format: "%+.2f (n=1)", mean)
    }

    /// The 0.975 quantile of Student's t distribution (tabulated to 3 decimals for 1-30 degrees of freedom, 1.96 above).
    public static func studentT975(degreesOfFreedom k: Int) -> Double {
        let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                     2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        precondition(k >= 1, "Student t needs at least one degree of freedom")
        return k <= table.count ? table[k - 1] : 1.96
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
    /// The gain paired by seed, over the seeds that have both runs (nil for source-only itself).
    public var pairedGain: PairedGain?
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
    /// The in-domain ceiling per backbone: a model trained with target labels (same budget) on the target test set.
    public var inDomainCeiling: [String: MeanStd]?
    public var note: String

    /// The method name of the in-domain ceiling runs.
    public static let inDomainMethod = "in-domain"

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
        var inDomain: [String: MeanStd] = [:]
        for backbone in backbones {
            let baseline = runs.filter { $0.backbone == backbone && $0.method == "source-only" }
            let baselineAccuracy = baseline.isEmpty ? nil : MeanStd(baseline.map(\.accuracy)).mean
            let sourceValues = baseline.compactMap(\.sourceAccuracy)
            if !sourceValues.isEmpty { sourceOnSource[backbone] = MeanStd(sourceValues) }
            let ceiling = runs.filter { $0.backbone == backbone && $0.method == ComparisonResults.inDomainMethod }
            if !ceiling.isEmpty { inDomain[backbone] = MeanStd(ceiling.map(\.accuracy)) }
            for method in methods {
                let selected = runs.filter { $0.backbone == backbone && $0.method == method }
                guard !selected.isEmpty else { continue }
                let accuracy = MeanStd(selected.map(\.accuracy))
                let paired = selected.compactMap { run in baseline.first { $0.seed == run.seed }.map { run.accuracy - $0.accuracy } }
                let isBaseline = method == "source-only"
                cells.append(ComparisonCell(
                    backbone: backbone, method: method, accuracy: accuracy, aurocMacro: MeanStd(selected.map(\.aurocMacro)),
                    gainOverSourceOnly: isBaseline ? nil : baselineAccuracy.map { accuracy.mean - $0 },
                    pairedGain: isBaseline || paired.isEmpty ? nil : PairedGain(paired),
                    seconds: MeanStd(selected.map(\.seconds))))
            }
        }
        self.cells = cells
        self.sourceOnSource = sourceOnSource
        inDomainCeiling = inDomain.isEmpty ? nil : inDomain
    }

    public func cell(_ backbone: String, _ method: String) -> ComparisonCell? {
        cells.first { $0.backbone == backbone && $0.method == method }
    }

    /// The human table: target accuracy / macro AUROC per backbone (rows) and method (columns) as mean ± std over
    /// seeds, the in-domain ceiling, gains over source-only paired by seed (mean ± standard error, `*` when the 95 %
    /// interval excludes zero), source on source, and run times.
    public var markdown: String {
        let target = profile.targetDomain.map { "Model \($0)" } ?? "Model B"
        let ceiling = inDomainCeiling ?? [:]
        let ceilingColumn = ceiling.isEmpty ? [] : ["in-domain ceiling"]
        let adaptationEpochs = runs.filter { $0.method != "source-only" && $0.method != ComparisonResults.inDomainMethod }
            .compactMap(\.epochs).first
        let epochsText = adaptationEpochs.flatMap { $0 == profile.epochs ? nil : $0 }
            .map { "\(profile.epochs) epochs (adapting methods: \($0) of fine-tuning from the source model)" } ?? "\(profile.epochs) epochs"
        var lines = ["# Model A -> \(target): backbone comparison", "",
                     "Profile `\(profile.name)`: \(profile.imageSize)x\(profile.imageSize) images, \(profile.trainCount) train / "
                        + "\(profile.testCount) test per domain, \(epochsText), batch \(profile.batchSize); seeds "
                        + seeds.map(String.init).joined(separator: ", ") + ". Data: \(dataOrigin).", "",
                     "> \(note)", "",
                     "## Target test (\(target)): accuracy % / macro AUROC (mean ± std over seeds)", "",
                     "| backbone | " + (methods + ceilingColumn).joined(separator: " | ") + " |",
                     "|---|" + (methods + ceilingColumn).map { _ in "---|" }.joined()]
        for b in backbones {
            let cellsText = methods.map { m in
                cell(b, m).map { "\($0.accuracy.formatted(2)) / \($0.aurocMacro.formatted(3))" } ?? "-"
            }
            let ceilingText = ceiling.isEmpty ? [] : [ceiling[b]?.formatted(2) ?? "-"]
            lines.append("| \(b) | " + (cellsText + ceilingText).joined(separator: " | ") + " |")
        }
        if !ceiling.isEmpty {
            lines += ["", "The in-domain ceiling is a source-only model trained on the labelled target training set with the same "
                + "budget (images, epochs, seed): what the target labels alone give. Adapting methods also learn from the "
                + "labelled source images, so on small data sets they can exceed it."]
        }
        let adapting = methods.filter { $0 != "source-only" }
        lines += ["", "## Gain over source-only, paired by seed (accuracy points, mean ± standard error; * : 95 % interval excludes 0)", "",
                  "| backbone | " + adapting.joined(separator: " | ") + " |", "|---|" + adapting.map { _ in "---|" }.joined()]
        for b in backbones {
            lines.append("| \(b) | " + adapting.map { m in cell(b, m)?.pairedGain?.formatted ?? "-" }.joined(separator: " | ") + " |")
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
