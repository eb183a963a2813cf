import Backbones
import Core
import Foundation

/// The adaptation methods by CLI name.
public enum MethodKind: String, CaseIterable, Codable, Sendable {
    case sourceOnly = "source-only"
    case adda
    case selfEnsemble = "self-ensemble"
    case cgdm
    case adamatch
    case adabn

    /// Whether the method adapts to the target domain (everything but source-only training).
    public var adapts: Bool { self != .sourceOnly }
    /// Whether the method needs a trained source model whatever the initialisation (ADDA copies its encoder, AdaBN
    /// re-normalises it).
    public var requiresSourceModel: Bool { self == .adda || self == .adabn }
    /// Whether the method takes gradient steps (AdaBN only re-estimates normalisation statistics, in one epoch).
    public var learnsWeights: Bool { self != .adabn }
    /// Whether the kind's method trains data-parallel (its `UDAMethod.supportsDataParallelTraining`), for refusing a
    /// command line before anything is built.
    public var trainsDataParallel: Bool { [.sourceOnly, .adda, .adabn].contains(self) }
    /// The CLI names of the kinds that train data-parallel, as a phrase ("source-only, adda and adabn").
    public static var dataParallelNames: String {
        let names = allCases.filter(\.trainsDataParallel).map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}

/// Where an adapting method's networks start.
public enum Initialization: String, Codable, CaseIterable, Sendable {
    /// From the source-only model of the same backbone and seed (trained once, shared by every method).
    case source
    /// From random weights, as the reference package does (ADDA and AdaBN still start from a source model).
    case scratch
}

/// Everything that defines a run; saved as `run.json` in the run directory.
public struct ExperimentConfiguration: Codable, Equatable, Sendable {
    public var method: MethodKind
    /// A `BackboneFactory` name (`resnet18`, ...).
    public var backbone: String
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var patience: Int = 15
    /// Share of the labelled source training data held out for model selection and early stopping.
    public var validationFraction: Double = 0.1
    public var maximumIterationsPerEpoch: Int?
    /// The shared optimizer settings and every method's own values (only the run's method's are used).
    public var hyperparameters = MethodHyperparameters()
    public var classNames = ["no substructure", "spherical", "vortex"]
    public var showProgress = true
    /// Compute threads and OpenBLAS kernel family the run was trained with (recorded, not chosen here): a resume is
    /// bit-identical only with the same ones, so a resume with others prints a warning.
    public var computeThreads: Int?
    public var blasCore: String?
    /// Where adapting methods start (nil when a `run.json` has no `initialization` key: scratch).
    public var initialization: Initialization?
    /// A source-only run's `best.safetensors` to start from; nil: train one in `<run>/source-pretraining`.
    public var sourceModel: String?
    /// The criterion that picks the epoch (nil: held-out source accuracy).
    public var selection: ModelSelection?
    /// Log per-epoch target test accuracy as a labelled research diagnostic (never used to select).
    public var diagnoseTarget: Bool?
    /// Append every this many iterations' loss terms to `steps.jsonl` (nil: no per-step log).
    public var stepLogInterval: Int?
    /// `[channels, height, width]` of the images the run was trained on (nil when the run
    /// did not record it); evaluation refuses images of another shape.
    public var imageShape: [Int]?

    public init(method: MethodKind, backbone: String, epochs: Int, batchSize: Int, seed: UInt64) {
        self.method = method
        self.backbone = backbone
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        initialization = .source
    }

    /// Whether the method's networks start from a trained source model.
    public var startsFromSource: Bool {
        method.requiresSourceModel || (method.adapts && (initialization ?? .scratch) == .source)
    }

    var trainer: TrainerConfiguration {
        TrainerConfiguration(epochs: epochs, batchSize: batchSize, seed: subSeed(3), patience: patience,
                             maximumIterationsPerEpoch: maximumIterationsPerEpoch, showProgress: showProgress,
                             selection: selection ?? .sourceValidation, stepLogInterval: stepLogInterval)
    }

    /// The options that define the run, entry by entry (`flattenedOptions`; each hyperparameter by its dotted name,
    /// `MethodHyperparameters.options`), without what may change between an interruption and its resume (progress
    /// display, thread count and BLAS kernels, which only warn).
    var runOptions: [String: String] {
        var comparable = self
        comparable.showProgress = true
        comparable.computeThreads = nil
        comparable.blasCore = nil
        var options = flattenedOptions(comparable)
        options["showProgress"] = nil
        options["hyperparameters"] = nil
        return options.merging(hyperparameters.options) { $1 }
    }

    /// Everything stored in the run's checkpoints and compared on resume: the trainer's options and `runOptions`.
    var checkpointOptions: [String: String] {
        Trainer.defaultRunOptions(trainer, methodName: method.rawValue).merging(runOptions) { $1 }
    }

    /// Independent sub-seeds: 0 backbone, 1 heads, 2 validation split, 3 trainer.
    var seeds: SeededGenerator { SeededGenerator(seed: seed) }
    func subSeed(_ stream: UInt64) -> UInt64 { var g = seeds.derived(stream: stream); return g.next() }
}

/// The outcome of `Experiment.run`.
public struct RunResult: Sendable {
    public let configuration: ExperimentConfiguration
    public let runDirectory: URL
    /// Training history, best epoch and early-stopping state.
    public let training: TrainerState
    /// Metrics of the selected model on the target test set (nil when no test set was given).
    public let targetMetrics: ClassificationMetrics?
}

/// Builds a backbone from a factory name and a seed.
public typealias BackboneBuilder = (_ name: String, _ seed: UInt64) throws -> Backbone

/// Runs whole experiments: the library API behind `deeplense train`, `deeplense evaluate` and `deeplense compare`.
public enum Experiment {
    /// The default builder, `BackboneFactory.make(name:seed:)`.
    public static let factoryBackbone: BackboneBuilder = { name, seed in try BackboneFactory.make(name: name, seed: seed) }

    /// Trains `configuration.method` on source -> target, selects the model on held-out source data, and (if
    /// `targetTest` is given) evaluates the selected model once on it, writing `metrics.json` and the plots.
    ///
    /// The run directory is locked (`RunLock`) for the whole run: a second process writing it is refused. A fresh
    /// start (`resume == false`) into a directory that already holds a run is refused unless `force`, which first
    /// removes the old run's outputs. A resume checks the options recorded in `run.json` and in the checkpoints, the
    /// checkpoints themselves and the selected model files before anything is written. Temporary files of
    /// interrupted checkpoint writes are removed at the start.
    ///
    /// Files in `runDirectory`: `run.json`, `checkpoint.safetensors` (latest state), `best.safetensors` (selected
    /// model), `history.json`, `training_curves.svg`, and after evaluation `metrics.json`, `confusion_matrix.svg`,
    /// `roc_curves.svg`. Methods that start from a source model (`startsFromSource`) load
    /// `configuration.sourceModel`, or else first train a source-only model in `runDirectory/source-pretraining` (same
    /// epochs, same held-out split and selection rule) and start from its selected weights.
    ///
    /// Over a data-parallel `group` of several ranks every rank calls `run` with the same arguments and trains its
    /// shard of each batch (`Trainer.group`); rank 0 alone locks the run directory, writes its files and evaluates the
    /// target test set (the other ranks return without `targetMetrics`). The run directory must be on a file system
    /// every rank sees, since every rank reads the checkpoints of a resume.
    public static func run(_ configuration: ExperimentConfiguration, source: LabeledImages, target: LabeledImages,
                           targetTest: LabeledImages? = nil, runDirectory: URL, resume: Bool = false, force: Bool = false,
                           group: DataParallelGroup = .singleProcess(),
                           makeBackbone: BackboneBuilder = factoryBackbone) throws -> RunResult {
        guard source.classCount == target.classCount else {
            throw ValidationFailure("source has \(source.classCount) classes, target \(target.classCount)")
        }
        for (name, images) in [("target", target), ("target test", targetTest)] {
            if let images, images.imageShape != source.imageShape {
                throw ValidationFailure("source images are \(source.imageShape) but \(name) images are \(images.imageShape)")
            }
        }
        if source.imageShape.count == 3, source.imageShape[1] != source.imageShape[2],
           let probe = try? makeBackbone(configuration.backbone, 0), probe.requiresSquareInput {
            throw ValidationFailure("\(configuration.backbone) needs square images, the data is \(source.imageShape[1])x\(source.imageShape[2])")
        }
        guard source.count > 0 else { throw ValidationFailure("the source training set has no images") }
        guard target.count > 0 else { throw ValidationFailure("the target training set has no images") }
        let split = stratifiedSplit(source, validationFraction: configuration.validationFraction, seed: configuration.subSeed(2))
        guard split.training.count > 0 else {
            throw ValidationFailure("holding out \(Int(configuration.validationFraction * 100)) % of \(source.count) source images "
                + "for validation leaves none to train on: lower --validation-fraction or add images")
        }
        let configURL = runDirectory.appendingPathComponent("run.json")
        var configuration = configuration
        configuration.computeThreads = ComputeThreads.count
        configuration.blasCore = OpenBLASCore.name
        configuration.imageShape = source.imageShape
        var pre = configuration
        pre.method = .sourceOnly
        let pretrainingDirectory = runDirectory.appendingPathComponent("source-pretraining")
        // every rank checks before rank 0 writes anything, and all start or none does
        var lock: RunLock? = nil
        defer { lock?.release() }
        var replacesRun = false
        try group.agreeToStart {
            if group.isLeader { lock = try RunLock(acquiring: runDirectory) }
            if resume {
                try checkResumable(configuration, pretraining: pre, runDirectory: runDirectory, pretrainingDirectory: pretrainingDirectory)
            } else {
                let existing = RunDirectory.existingRunFiles(in: runDirectory)
                if !existing.isEmpty {
                    guard force else { throw RunDirectoryError.existingRun(path: runDirectory.path, files: existing) }
                    replacesRun = true
                }
            }
        }
        if group.isLeader {
            let removed = RunDirectory.removeOrphanTemporaries(in: runDirectory)
            if !removed.isEmpty, configuration.showProgress {
                log("removed the temporary files of interrupted writes in \(runDirectory.path): \(removed.joined(separator: ", "))")
            }
            if replacesRun { try RunDirectory.removeOutputs(in: runDirectory) }
        }
        if group.isLeader { try writeJSON(configuration, to: configURL) }
        let method = try makeMethod(configuration, classCount: source.classCount, makeBackbone: makeBackbone) { sourceOnly in
            if let path = configuration.sourceModel {
                try Checkpoint.loadModel(into: sourceOnly, from: URL(fileURLWithPath: path))
                return
            }
            let trainer = Trainer(method: sourceOnly, configuration: pre.trainer, runDirectory: pretrainingDirectory)
            trainer.runOptions = pre.checkpointOptions
            trainer.group = group
            let summary = try trainer.fit(sourceTraining: split.training, sourceValidation: split.validation,
                                          targetTraining: target, resume: resume)
            try group.afterLeaderWrote { try Checkpoint.loadModel(into: sourceOnly, from: summary.bestModel) }
        }
        let trainer = Trainer(method: method, configuration: configuration.trainer, runDirectory: runDirectory)
        trainer.runOptions = configuration.checkpointOptions
        trainer.group = group
        let summary = try trainer.fit(sourceTraining: split.training, sourceValidation: split.validation,
                                      targetTraining: target, targetDiagnostic: configuration.diagnoseTarget == true ? targetTest : nil,
                                      resume: resume)
        guard group.isLeader else {
            return RunResult(configuration: configuration, runDirectory: runDirectory, training: summary.state, targetMetrics: nil)
        }
        try writeJSON(summary.state.history, to: runDirectory.appendingPathComponent("history.json"))
        try Data(EvaluationPlots.trainingCurvesSVG(summary.state.history, title: "\(configuration.method.rawValue) on \(configuration.backbone)").utf8)
            .writeAtomically(to: runDirectory.appendingPathComponent("training_curves.svg"))
        var metrics: ClassificationMetrics? = nil
        if let targetTest {
            try Checkpoint.loadModel(into: method, from: summary.bestModel)
            metrics = try evaluate(method: method, on: targetTest, classNames: configuration.classNames,
                                   batchSize: configuration.batchSize, writingTo: runDirectory)
        }
        return RunResult(configuration: configuration, runDirectory: runDirectory, training: summary.state, targetMetrics: metrics)
    }

    /// Evaluates a finished run's selected model on `test`, writing `metrics.json` and the plots into the run
    /// directory (`deeplense evaluate`).
    public static func evaluate(runDirectory: URL, test: LabeledImages,
                                makeBackbone: BackboneBuilder = factoryBackbone) throws -> ClassificationMetrics {
        let configuration = try readConfiguration(runDirectory.appendingPathComponent("run.json"))
        if let trained = configuration.imageShape, trained != test.imageShape {
            throw ValidationFailure("\(runDirectory.path) was trained on \(shapeText(trained)) images, the test set holds "
                + "\(shapeText(test.imageShape)) images; evaluate it on images of the size it was trained for")
        }
        let lock = try RunLock(acquiring: runDirectory)
        defer { lock.release() }
        let method = try makeMethod(configuration, classCount: test.classCount, makeBackbone: makeBackbone) { _ in }
        try Checkpoint.loadModel(into: method, from: runDirectory.appendingPathComponent("best.safetensors"))
        return try evaluate(method: method, on: test, classNames: configuration.classNames,
                            batchSize: configuration.batchSize, writingTo: runDirectory)
    }

    /// Predicts `test` in batches and computes the metrics; with a directory, writes `metrics.json`,
    /// `confusion_matrix.svg` and `roc_curves.svg` there.
    public static func evaluate(method: UDAMethod, on test: LabeledImages, classNames: [String], batchSize: Int,
                                writingTo directory: URL? = nil) throws -> ClassificationMetrics {
        var probabilities: [[Double]] = [], labels: [Int] = []
        var start = 0
        while start < test.count {
            let indices = Array(start..<min(start + batchSize, test.count))
            let (x, y) = test.batch(indices)
            let p = withoutGradient { method.predict(x).softmax(axis: 1) }
            let c = p.shape[1]
            for i in 0..<indices.count { probabilities.append(p.scalars[(i * c)..<((i + 1) * c)].map(Double.init)) }
            labels += y
            start += batchSize
        }
        let names = classNames.count == test.classCount ? classNames : (0..<test.classCount).map { "class \($0)" }
        let metrics = ClassificationMetrics(probabilities: probabilities, labels: labels, classNames: names)
        if let directory {
            try metrics.write(to: directory.appendingPathComponent("metrics.json"))
            try Data(EvaluationPlots.confusionMatrixSVG(metrics.confusionMatrix, classNames: names).utf8)
                .writeAtomically(to: directory.appendingPathComponent("confusion_matrix.svg"))
            try Data(EvaluationPlots.rocSVG(metrics).utf8).writeAtomically(to: directory.appendingPathComponent("roc_curves.svg"))
        }
        return metrics
    }

    /// Builds the method of a configuration. Methods that start from a source model get a `SourceOnly` handed to
    /// `loadSource` (which trains or loads it) and copy its networks; evaluation passes a closure that does nothing,
    /// since the saved model is loaded over the networks afterwards.
    public static func makeMethod(_ configuration: ExperimentConfiguration, classCount: Int, makeBackbone: BackboneBuilder,
                                  loadSource: (SourceOnly) throws -> Void) throws -> UDAMethod {
        let encoder = try makeBackbone(configuration.backbone, configuration.subSeed(0))
        let headSeed = configuration.subSeed(1), h = configuration.hyperparameters, settings = h.optimizer
        let fromSource = configuration.startsFromSource
        var startingModel: EncoderClassifier? = nil
        if fromSource {
            let source = SourceOnly(encoder: try makeBackbone(configuration.backbone, configuration.subSeed(0)),
                                    classCount: classCount, seed: headSeed, optimizerSettings: settings)
            try loadSource(source)
            startingModel = source.model
        }
        let method: UDAMethod
        switch configuration.method {
        case .sourceOnly:
            return SourceOnly(encoder: encoder, classCount: classCount, seed: headSeed, optimizerSettings: settings)
        case .adda:
            return ADDA(source: startingModel!, seed: configuration.subSeed(4), optimizerSettings: settings,
                        hyperparameters: h.adda)
        case .adabn: method = AdaBN(encoder: encoder, classCount: classCount, seed: headSeed)
        case .selfEnsemble:
            method = SelfEnsemble(encoder: encoder, classCount: classCount, seed: headSeed, optimizerSettings: settings,
                                  hyperparameters: h.selfEnsemble, startsFromSource: fromSource)
        case .cgdm:
            method = CGDM(encoder: encoder, classCount: classCount, seed: headSeed, optimizerSettings: settings,
                          hyperparameters: h.cgdm, startsFromSource: fromSource)
        case .adamatch:
            method = AdaMatch(encoder: encoder, classCount: classCount, seed: headSeed, optimizerSettings: settings,
                              hyperparameters: h.adamatch, startsFromSource: fromSource)
        }
        if let startingModel { try method.start(from: startingModel) }
        return method
    }

    /// Everything a resume needs, checked before anything is written: `run.json` (when present) readable and made
    /// with the same options, and each checkpoint that exists (the run's, and the source pre-training's when the method
    /// trains one) intact, made with the same options, with a trainer state that fits and its selected model present.
    /// A checkpoint that records its hyperparameters in the flat layout of earlier versions is refused with that reason.
    static func checkResumable(_ configuration: ExperimentConfiguration, pretraining: ExperimentConfiguration,
                               runDirectory: URL, pretrainingDirectory: URL) throws {
        let configURL = runDirectory.appendingPathComponent("run.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            let saved = try readConfiguration(configURL)
            var comparable = configuration
            if saved.imageShape == nil { comparable.imageShape = nil }
            if let differences = optionDifferences(saved.runOptions, comparable.runOptions, place: "there") {
                throw CheckpointError.mismatch(path: configURL.path, reason: "the options differ from the interrupted run (\(differences))")
            }
            if let threads = saved.computeThreads, let core = saved.blasCore,
               threads != ComputeThreads.count || core != OpenBLASCore.name {
                log("warning: \(runDirectory.path) was trained with \(threads) threads and \(core) BLAS kernels, resuming with "
                    + "\(ComputeThreads.count) and \(OpenBLASCore.name): the result will not be bit-identical to an uninterrupted run")
            }
        }
        var checks = [(runDirectory, configuration)]
        if configuration.startsFromSource, configuration.sourceModel == nil { checks.append((pretrainingDirectory, pretraining)) }
        for (directory, run) in checks {
            let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
            guard FileManager.default.fileExists(atPath: checkpoint.path) else { continue }
            do {
                try Trainer.checkResumable(checkpoint, options: run.checkpointOptions,
                                           epochs: run.method.learnsWeights ? run.epochs : 1,
                                           bestModel: directory.appendingPathComponent("best.safetensors"))
            } catch CheckpointError.mismatch(let path, let reason) {
                guard (try? Checkpoint.inspect(checkpoint))?.options?["hyperparameters"] != nil else {
                    throw CheckpointError.mismatch(path: path, reason: reason)
                }
                throw CheckpointError.mismatch(path: path, reason: "it records the hyperparameters in the flat layout of an "
                    + "earlier deeplense, which cannot be resumed; start this run again (`train --force`, or remove "
                    + "its directory)")
            }
        }
    }

    private static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    private static func shapeText(_ shape: [Int]) -> String {
        shape.count == 3 && shape[0] == 1 ? "\(shape[1])x\(shape[2])" : "\(shape)"
    }

    /// Reads a `run.json` (the flat hyperparameter layout of earlier versions is migrated, `MethodHyperparameters`);
    /// a file that does not decode is one line naming the file and the key.
    static func readConfiguration(_ url: URL) throws -> ExperimentConfiguration {
        let data = try Data(contentsOf: url)
        do {
            return try JSONDecoder().decode(ExperimentConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw ValidationFailure("\(url.path) is not a readable run.json: \(error.summary)")
        }
    }

    static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(value).writeAtomically(to: url)
    }
}
