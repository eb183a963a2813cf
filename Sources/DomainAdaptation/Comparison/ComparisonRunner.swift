import Core
import Foundation
import Lensing

/// What `deeplense compare` runs: every backbone x method x seed on one pair of domains.
public struct ComparisonPlan: Sendable {
    public var profile: ComparisonProfile
    public var backbones: [String]
    public var methods: [MethodKind]
    public var seeds: [UInt64]
    /// Where the Model A / Model B files are (simulated into it when missing).
    public var dataDirectory: URL
    /// Where runs, `results.json`, `results.md` and the plots go.
    public var outputDirectory: URL
    /// Seed of the simulated data (independent of the training seeds).
    public var dataSeed: UInt64 = 2026
    public var showProgress = true
    /// Where adapting methods start.
    public var initialization: Initialization = .source
    /// The epoch-selection criterion of every run.
    public var selection: ModelSelection = .sourceValidation
    /// Log per-epoch target test accuracy in each run's history (diagnostic only).
    public var diagnoseTarget = false
    /// Also train the in-domain ceiling per backbone and seed (source-only training on the labelled target data).
    public var inDomainCeiling = true

    public init(profile: ComparisonProfile, backbones: [String], methods: [MethodKind], seeds: [UInt64],
                dataDirectory: URL, outputDirectory: URL) {
        self.profile = profile
        self.backbones = backbones
        self.methods = methods
        self.seeds = seeds
        self.dataDirectory = dataDirectory
        self.outputDirectory = outputDirectory
    }
}

extension ComparisonPlan {
    /// The run configuration of one cell.
    public func configuration(_ method: MethodKind, backbone: String, seed: UInt64) -> ExperimentConfiguration {
        var configuration = ExperimentConfiguration(method: method, backbone: backbone, epochs: profile.epochs,
                                                    batchSize: profile.batchSize, seed: seed)
        configuration.patience = profile.patience
        configuration.maximumIterationsPerEpoch = profile.maximumIterationsPerEpoch
        configuration.showProgress = showProgress
        configuration.initialization = initialization
        configuration.selection = selection
        configuration.diagnoseTarget = diagnoseTarget ? true : nil
        if method.adapts && configuration.startsFromSource { configuration.epochs = profile.adaptationEpochs ?? profile.epochs }
        return configuration
    }
}

/// The four splits of a comparison.
public struct ComparisonData {
    public let sourceTrain: LabeledImages
    public let sourceTest: LabeledImages
    public let targetTrain: LabeledImages
    public let targetTest: LabeledImages
    /// Where the data came from, for the report.
    public let origin: String
    /// How the report names the target domain: the profile's simulated domain ("Model B", "Model A-shifted") when the
    /// data is that simulation, "Model B" for the DeepLense release's `j` files, otherwise the files' prefix.
    public var targetName: String = "Model B"
}

/// Runs backbone comparisons on Model A -> Model B (the library behind `deeplense compare`).
public enum Comparison {
    /// Prefixes tried for the source and target domains: our simulator's `a`/`b`, then the DeepLense release's `f`/`j`.
    public static let sourcePrefixes = ["a", "f"], targetPrefixes = ["b", "j"]

    /// The source and target prefixes of the first complete data pair in `directory` (every split present), if any.
    static func dataPrefixes(in directory: URL) -> (source: String, target: String)? {
        func complete(_ prefix: String) -> Bool {
            DataSplit.allCases.allSatisfy { DeepLenseDataset.prefixes(in: directory, split: $0).contains(prefix) }
        }
        guard let source = sourcePrefixes.first(where: complete), let target = targetPrefixes.first(where: complete) else { return nil }
        return (source, target)
    }

    static func existingDataOrigin(_ directory: URL, source: String, target: String) -> String {
        "existing files in \(directory.path) (source prefix '\(source)', target prefix '\(target)')"
    }

    /// The record a simulation for `plan` writes beside its files (`dataset.json`).
    static func simulationRecord(_ plan: ComparisonPlan) -> SimulatedDataRecord {
        SimulatedDataRecord(imageSize: plan.profile.imageSize, trainCount: plan.profile.trainCount,
                            testCount: plan.profile.testCount, dataSeed: plan.dataSeed,
                            priors: DomainPriors.modelA.fingerprint + "-" + plan.profile.targetPriors.fingerprint)
    }

    /// The target domain's name for reports: the profile's simulated domain when `plan.dataDirectory` holds that
    /// simulation, "Model B" for the DeepLense release's `j` files, otherwise the files' prefix.
    static func targetName(_ plan: ComparisonPlan, targetPrefix: String) -> String {
        let recordURL = plan.dataDirectory.appendingPathComponent("dataset.json")
        if (try? JSONDecoder().decode(SimulatedDataRecord.self, from: Data(contentsOf: recordURL))) == simulationRecord(plan) {
            return "Model \(plan.profile.targetPriors.name)"
        }
        return targetPrefix == "j" ? "Model B" : "target files '\(targetPrefix)'"
    }

    /// Opens the data in `plan.dataDirectory`, simulating Model A (prefix `a`) and Model B (prefix `b`) at the profile's
    /// size and counts first if no source/target pair is there (unless `simulating` is false: then missing data is an error).
    public static func prepareData(_ plan: ComparisonPlan, simulating: Bool = true, log: (String) -> Void) throws -> ComparisonData {
        let directory = plan.dataDirectory
        let found = dataPrefixes(in: directory)
        var source = found?.source, target = found?.target
        var origin: String
        var targetName = "Model \(plan.profile.targetPriors.name)"
        let recordURL = directory.appendingPathComponent("dataset.json")
        let wanted = simulationRecord(plan)
        if let source, let target {
            if let made = try? JSONDecoder().decode(SimulatedDataRecord.self, from: Data(contentsOf: recordURL)), made != wanted {
                if made.priors != wanted.priors {
                    throw ValidationFailure("the simulated data in \(directory.path) was made with other Model A/B priors "
                        + "(an earlier version of the simulator): use another --data or --out, or delete it to re-simulate")
                }
                throw ValidationFailure("the simulated data in \(directory.path) was made for \(made.imageSize)x\(made.imageSize), "
                    + "\(made.trainCount) train / \(made.testCount) test, but profile \(plan.profile.name) needs "
                    + "\(wanted.imageSize)x\(wanted.imageSize), \(wanted.trainCount) / \(wanted.testCount): use another --data or --out")
            }
            origin = existingDataOrigin(directory, source: source, target: target)
            targetName = Comparison.targetName(plan, targetPrefix: target)
            log("using \(origin)")
        } else {
            guard simulating else {
                throw ValidationFailure("no complete Model A/B data in \(directory.path): run the prepare step "
                    + "(`deeplense compare ... --prepare`) first")
            }
            let profile = plan.profile
            guard let preset = ImagePreset(size: profile.imageSize) else {
                throw ValidationFailure("profile \(profile.name) asks for unsupported image size \(profile.imageSize)")
            }
            for (priors, prefix) in [(DomainPriors.modelA, "a"), (profile.targetPriors, "b")] {
                let letter = priors.name
                let simulator = LensSimulator(priors: priors, preset: preset)
                for (split, count) in [(DataSplit.train, profile.trainCount), (.test, profile.testCount)] {
                    let bar = ProgressBar("simulate Model \(letter) \(split.rawValue)", total: count, enabled: plan.showProgress)
                    _ = try SimulatedDataSetWriter.write(simulator: simulator, count: count, seed: plan.dataSeed, split: split,
                                                         directory: directory, prefix: prefix) { bar.advance(by: $0) }
                    bar.finish()
                }
            }
            try Experiment.writeJSON(wanted, to: recordURL)
            source = "a"; target = "b"
            origin = "simulated Model A / Model \(plan.profile.targetPriors.name), \(preset.size)x\(preset.size), data seed \(plan.dataSeed), in \(directory.path)"
            log("wrote \(origin)")
        }
        func open(_ prefix: String, _ split: DataSplit) throws -> LabeledImages {
            try DeepLenseDataset(directory: directory, prefix: prefix, split: split)
        }
        return ComparisonData(sourceTrain: try open(source!, .train), sourceTest: try open(source!, .test),
                              targetTrain: try open(target!, .train), targetTest: try open(target!, .test), origin: origin,
                              targetName: targetName)
    }

    /// The run directory of the in-domain ceiling of one backbone and seed.
    public static func inDomainRunDirectory(_ plan: ComparisonPlan, backbone: String, seed: UInt64) -> URL {
        plan.outputDirectory.appendingPathComponent("runs/\(backbone)/\(ComparisonResults.inDomainMethod)/seed-\(seed)", isDirectory: true)
    }

    /// The run directory of one backbone, method and seed.
    public static func runDirectory(_ plan: ComparisonPlan, backbone: String, method: MethodKind, seed: UInt64) -> URL {
        plan.outputDirectory.appendingPathComponent("runs/\(backbone)/\(method.rawValue)/seed-\(seed)", isDirectory: true)
    }

    /// Trains and evaluates every run of the plan (skipping finished runs, resuming interrupted ones), then writes
    /// `results.json`, `results.md`, `accuracy_by_method.svg` and `roc_<method>.svg` into the output directory.
    ///
    /// Per backbone and seed the source-only run comes first; with `--init source` every adapting method of that
    /// backbone and seed starts from its selected model (trained once, shared), and ADDA and AdaBN always do.
    public static func run(_ plan: ComparisonPlan, makeBackbone: @escaping BackboneBuilder = Experiment.factoryBackbone,
                           log: (String) -> Void) throws -> ComparisonResults {
        try FileManager.default.createDirectory(at: plan.outputDirectory, withIntermediateDirectories: true)
        let data = try prepareData(plan, log: log)
        let methods = plan.trainedMethods
        let jobs = plan.runOrder
        var runs: [ComparisonRun] = []
        var trainedSeconds = 0.0, trainedCount = 0
        for (index, (backbone, kind, seed)) in jobs.enumerated() {
            let methodName = kind?.rawValue ?? ComparisonResults.inDomainMethod
            let label = "[\(index + 1)/\(jobs.count)] \(backbone) \(methodName) seed \(seed)"
            if let saved = try finishedRun(plan, backbone: backbone, method: kind, seed: seed) {
                runs.append(saved)
                log("\(label): finished earlier, \(String(format: "%.2f%% / %.3f", saved.accuracy, saved.aurocMacro))")
                continue
            }
            log("\(label): training")
            let record = try train(plan, backbone: backbone, method: kind, seed: seed, data: data, makeBackbone: makeBackbone)
            runs.append(record)
            trainedSeconds += record.seconds
            trainedCount += 1
            let remaining = Double(jobs.count - index - 1) * trainedSeconds / Double(trainedCount)
            log("\(label): \(String(format: "%.2f%% / %.3f", record.accuracy, record.aurocMacro)) in "
                + "\(ProgressBar.clock(record.seconds)); runs done \(index + 1)/\(jobs.count), ETA \(ProgressBar.clock(remaining))")
        }
        let results = ComparisonResults(profile: plan.profile, dataDirectory: plan.dataDirectory.path, dataOrigin: data.origin,
                                        backbones: plan.backbones, methods: methods.map(\.rawValue), seeds: plan.seeds,
                                        runs: runs, targetName: data.targetName)
        try write(results, plan: plan)
        return results
    }

    /// The run directory of one cell (a nil method is the in-domain ceiling).
    public static func runDirectory(_ plan: ComparisonPlan, backbone: String, method: MethodKind?, seed: UInt64) -> URL {
        method.map { runDirectory(plan, backbone: backbone, method: $0, seed: seed) }
            ?? inDomainRunDirectory(plan, backbone: backbone, seed: seed)
    }

    /// The record of a finished run of one cell (nil when it has not finished); refuses a run made with another
    /// training length.
    static func finishedRun(_ plan: ComparisonPlan, backbone: String, method: MethodKind?, seed: UInt64) throws -> ComparisonRun? {
        let directory = runDirectory(plan, backbone: backbone, method: method, seed: seed)
        let configuration = plan.configuration(method ?? .sourceOnly, backbone: backbone, seed: seed)
        guard let saved = try? JSONDecoder().decode(ComparisonRun.self, from: Data(contentsOf: directory.appendingPathComponent("comparison-run.json"))) else {
            return nil
        }
        if let epochs = saved.epochs, let batch = saved.batchSize,
           epochs != configuration.epochs || batch != configuration.batchSize {
            throw ValidationFailure("\(directory.path) holds a finished run with \(epochs) epochs and batch \(batch), "
                + "but this comparison asks for \(configuration.epochs) and \(configuration.batchSize): use another --out")
        }
        return saved
    }

    /// Trains (resuming from its checkpoint) and evaluates one cell, and writes its `comparison-run.json`. A nil method
    /// is the in-domain ceiling: source-only training on the labelled target training set.
    static func train(_ plan: ComparisonPlan, backbone: String, method kind: MethodKind?, seed: UInt64, data: ComparisonData,
                      makeBackbone: @escaping BackboneBuilder) throws -> ComparisonRun {
        let method = kind ?? .sourceOnly
        let directory = runDirectory(plan, backbone: backbone, method: kind, seed: seed)
        let start = Date()
        var configuration = plan.configuration(method, backbone: backbone, seed: seed)
        if kind != nil, configuration.startsFromSource {
            configuration.sourceModel = runDirectory(plan, backbone: backbone, method: .sourceOnly, seed: seed)
                .appendingPathComponent("best.safetensors").path
        }
        let result = try Experiment.run(configuration, source: kind == nil ? data.targetTrain : data.sourceTrain,
                                        target: data.targetTrain, targetTest: data.targetTest, runDirectory: directory,
                                        resume: true, makeBackbone: makeBackbone)
        guard let metrics = result.targetMetrics else { preconditionFailure("Experiment.run evaluates when given a test set") }
        var record = ComparisonRun(backbone: backbone, method: kind?.rawValue ?? ComparisonResults.inDomainMethod, seed: seed,
                                   accuracy: metrics.accuracy, aurocMacro: metrics.aurocMacro, aurocMicro: metrics.aurocMicro,
                                   seconds: Date().timeIntervalSince(start), bestEpoch: result.training.bestEpoch,
                                   epochs: configuration.epochs, batchSize: configuration.batchSize)
        if kind == .sourceOnly {
            let onSource = try evaluateOnSource(configuration, data: data, runDirectory: directory, makeBackbone: makeBackbone)
            record.sourceAccuracy = onSource.accuracy
            record.sourceAurocMacro = onSource.aurocMacro
        }
        try Experiment.writeJSON(record, to: directory.appendingPathComponent("comparison-run.json"))
        return record
    }

    /// The selected source-only model on the source test set (written to `<run>/source-test/`).
    static func evaluateOnSource(_ configuration: ExperimentConfiguration, data: ComparisonData, runDirectory: URL,
                                 makeBackbone: BackboneBuilder) throws -> ClassificationMetrics {
        let method = try Experiment.makeMethod(configuration, classCount: data.sourceTest.classCount, makeBackbone: makeBackbone) { _ in }
        _ = try Checkpoint.loadModel(into: method, from: runDirectory.appendingPathComponent("best.safetensors"))
        let directory = runDirectory.appendingPathComponent("source-test", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try Experiment.evaluate(method: method, on: data.sourceTest, classNames: configuration.classNames,
                                       batchSize: configuration.batchSize, writingTo: directory)
    }

    static func write(_ results: ComparisonResults, plan: ComparisonPlan) throws {
        let out = plan.outputDirectory
        try Experiment.writeJSON(results, to: out.appendingPathComponent("results.json"))
        try Data(results.markdown.utf8).writeAtomically(to: out.appendingPathComponent("results.md"))
        try Data(ComparisonPlots.accuracySVG(results).utf8).writeAtomically(to: out.appendingPathComponent("accuracy_by_method.svg"))
        for method in results.methods.compactMap(MethodKind.init(rawValue:)) {
            let seed = plan.seeds[0]
            let curves: [(backbone: String, metrics: ClassificationMetrics)] = plan.backbones.compactMap { backbone in
                let url = runDirectory(plan, backbone: backbone, method: method, seed: seed).appendingPathComponent("metrics.json")
                return (try? ClassificationMetrics.read(from: url)).map { (backbone, $0) }
            }
            try Data(ComparisonPlots.rocSVG(method: method.rawValue, curves: curves).utf8)
                .writeAtomically(to: out.appendingPathComponent("roc_\(method.rawValue).svg"))
        }
    }
}

/// What `dataset.json` records about simulated comparison data, so a later comparison does not reuse data made for
/// another profile.
struct SimulatedDataRecord: Codable, Equatable {
    var imageSize: Int
    var trainCount: Int
    var testCount: Int
    var dataSeed: UInt64
    /// `DomainPriors.fingerprint` of Model A and Model B (nil in records written before it existed).
    var priors: String?
}

/// A user-facing problem with a comparison's inputs.
public struct ValidationFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
