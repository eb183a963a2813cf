import Core
import Foundation

/// Settings of the training loop (not of a method).
public struct TrainerConfiguration: Codable, Equatable, Sendable {
    public var epochs: Int
    /// Source images per iteration (the target batch is `batchSize * method.targetBatchMultiplier`).
    public var batchSize: Int
    /// Seeds the run generator that orders batches and drives augmentations and random method choices.
    public var seed: UInt64
    /// Early stopping: stop after this many epochs without a better held-out source accuracy.
    public var patience: Int = 15
    /// Cap on iterations per epoch (nil: one pass over the source training data, last partial batch dropped).
    public var maximumIterationsPerEpoch: Int?
    /// Draw a progress bar on stderr and print one summary line per epoch.
    public var showProgress: Bool = true
    /// Which criterion picks the saved model and drives early stopping (both are computed and recorded every epoch).
    public var selection: ModelSelection = .sourceValidation
    /// Every this many iterations, the iteration's loss terms are appended to `steps.jsonl` in the run directory
    /// (nil: no per-step log).
    public var stepLogInterval: Int?

    public init(epochs: Int, batchSize: Int, seed: UInt64, patience: Int = 15, maximumIterationsPerEpoch: Int? = nil,
                showProgress: Bool = true, selection: ModelSelection = .sourceValidation, stepLogInterval: Int? = nil) {
        precondition(epochs > 0 && batchSize > 0 && patience > 0, "epochs, batch size and patience must be positive")
        precondition(stepLogInterval.map { $0 > 0 } ?? true, "the step log interval must be positive")
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.patience = patience
        self.maximumIterationsPerEpoch = maximumIterationsPerEpoch
        self.showProgress = showProgress
        self.selection = selection
        self.stepLogInterval = stepLogInterval
    }
}

/// How a run picks its epoch without target labels.
public enum ModelSelection: String, Codable, CaseIterable, Sendable {
    /// Best held-out source accuracy (ties: lower cross-entropy); methods whose source accuracy says nothing about
    /// the target (ADDA) keep the last epoch.
    case sourceValidation = "source"
    /// Lowest Deep Embedded Validation risk (You et al. 2019, `DeepEmbeddedValidation`).
    case deepEmbeddedValidation = "dev"
}

/// Why training stopped abnormally.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, iteration: Int, term: String, value: Float, lastCheckpoint: String?)
    case nonFinitePrediction(epoch: Int, lastCheckpoint: String?)
    /// A parameter or buffer (`tensor`: module name and dotted key) holds a NaN or infinity after an iteration.
    case nonFiniteParameter(epoch: Int, iteration: Int, tensor: String, lastCheckpoint: String?)
    /// In data-parallel training, a rank's parameters or buffers differ from rank 0's after an epoch (a rank ran
    /// different code or data: e.g. another build or data files).
    case ranksDiverged(epoch: Int, lastCheckpoint: String?)

    public var description: String {
        func kept(_ path: String?) -> String {
            path.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint had been written yet"
        }
        switch self {
        case let .nonFiniteLoss(epoch, iteration, term, value, path):
            return "training diverged: loss term '\(term)' is \(value) at epoch \(epoch), iteration \(iteration)\(kept(path))"
        case let .nonFinitePrediction(epoch, path):
            return "training diverged: the model predicts non-finite logits after epoch \(epoch)\(kept(path))"
        case let .ranksDiverged(epoch, path):
            return "data-parallel training stopped: the processes' models differ after epoch \(epoch) (every process must run "
                + "the same build on the same data)\(kept(path))"
        case let .nonFiniteParameter(epoch, iteration, tensor, path):
            return "training diverged: \(tensor) holds NaN or infinite values after epoch \(epoch), iteration \(iteration)\(kept(path))"
        }
    }
}

/// What a finished (or early-stopped) training run reports.
public struct TrainingSummary: Sendable {
    public let state: TrainerState
    /// The file holding the selected (best held-out source accuracy) prediction model.
    public let bestModel: URL
    public let checkpoint: URL
}

/// The training loop shared by every method.
///
/// Each epoch draws a permutation of the source training set (one pass, last partial batch dropped) and a stream of
/// target batches (permutations concatenated as needed) from the run generator, calls `method.step` per iteration,
/// then measures accuracy and cross-entropy on the held-out source split. **Model selection uses only labelled source
/// data**: the best held-out source accuracy (ties broken by the lower held-out cross-entropy) picks the saved model (`best.safetensors`) and early stopping ends the run after
/// `patience` epochs without improvement (methods with `selectsOnSourceValidation == false`, i.e. ADDA, keep the last
/// epoch instead, since no criterion is available without target labels). The target test set is not seen here; `Experiment` evaluates it once
/// at the end.
///
/// After every epoch the full state (modules, optimizers, method extras, generator, history) is written atomically
/// to `checkpoint.safetensors`; `fit(resume: true)` continues from it and, with the same seed and thread count,
/// ends with bit-identical weights to an uninterrupted run. A non-finite loss stops the run with
/// `TrainingError` before anything of that epoch is written, so the last good checkpoint stays.
public final class Trainer {
    public let method: UDAMethod
    public let configuration: TrainerConfiguration
    public let runDirectory: URL
    /// Called after every epoch with its record (for library users; the CLI prints the summary line itself).
    public var onEpochEnd: ((EpochRecord, TrainerState) -> Void)?
    /// The options that define the run, stored in every checkpoint (covered by its checksum); a resume whose options
    /// differ is refused. Starts as the training-loop settings and the method name (`trainer.*` keys); callers add
    /// theirs (`Experiment` adds its whole configuration).
    public var runOptions: [String: String]
    /// The ranks this run is trained over (one process by default). Over several ranks (`deeplense train
    /// --distributed`) every rank runs `fit` with the same arguments: each takes its shard of every global batch,
    /// optimizers average gradients over the ranks before each update, batch normalisation uses global batch
    /// statistics (`BatchNormSynchronization`), loss terms are averaged, the epoch's predictions (held-out accuracy,
    /// DEV features, diagnostic) are split over the ranks and gathered, batch-norm re-estimation runs on every rank
    /// (so every rank holds the same state), and only rank 0 writes files and prints.
    public var group = DataParallelGroup.singleProcess()

    public var checkpointURL: URL { runDirectory.appendingPathComponent("checkpoint.safetensors") }
    public var bestModelURL: URL { runDirectory.appendingPathComponent("best.safetensors") }
    /// The per-step log written with `TrainerConfiguration.stepLogInterval`: one JSON object per logged iteration,
    /// `{"epoch": 1-based, "iteration": 1-based over the run, "terms": {name: value}}`, appended after each epoch's
    /// checkpoint, so after an interruption it holds exactly the completed epochs.
    public var stepLogURL: URL { runDirectory.appendingPathComponent("steps.jsonl") }

    public init(method: UDAMethod, configuration: TrainerConfiguration, runDirectory: URL) {
        self.method = method
        self.configuration = configuration
        self.runDirectory = runDirectory
        runOptions = Trainer.defaultRunOptions(configuration, methodName: method.name)
    }

    /// The run options a trainer starts with: the training-loop settings but the progress display, and the method.
    public static func defaultRunOptions(_ configuration: TrainerConfiguration, methodName: String) -> [String: String] {
        var options = flattenedOptions(configuration, prefix: "trainer.")
        options["trainer.showProgress"] = nil
        options["trainer.method"] = "\"\(methodName)\""
        return options
    }

    /// Checks, without changing anything, that the checkpoint at `url` can continue a run of `epochs` epochs with
    /// `options`: readable and intact, made with the same options (when it records them), a trainer state that fits,
    /// and the selected model file `bestModel` present once an epoch was selected. Returns the trainer state.
    @discardableResult
    public static func checkResumable(_ url: URL, options: [String: String], epochs: Int, bestModel: URL) throws -> TrainerState {
        let (state, saved) = try Checkpoint.inspect(url)
        if let saved, let differences = optionDifferences(saved, options, place: "in the checkpoint") {
            throw CheckpointError.mismatch(path: url.path, reason: "it was made with other options (\(differences))")
        }
        guard state.generatorState.count == 4, !state.generatorState.allSatisfy({ $0 == 0 }) else {
            throw CheckpointError.corrupt(path: url.path, reason: "invalid generator state \(state.generatorState)")
        }
        guard (0...epochs).contains(state.completedEpochs), (0...state.completedEpochs).contains(state.bestEpoch),
              state.history.count == state.completedEpochs else {
            throw CheckpointError.corrupt(path: url.path, reason: "\(state.completedEpochs) completed epochs, best epoch "
                + "\(state.bestEpoch) and \(state.history.count) history records do not fit a run of \(epochs) epochs")
        }
        if state.bestEpoch > 0, !FileManager.default.fileExists(atPath: bestModel.path) {
            throw CheckpointError.mismatch(path: url.path, reason: "the selected model \(bestModel.path) of epoch "
                + "\(state.bestEpoch) is missing; the run cannot be resumed (delete the checkpoint to start over)")
        }
        return state
    }

    /// The first module tensor (parameter or buffer) or, with `optimizers`, optimizer state holding a NaN or an
    /// infinity, as `module <name> <key>` / `optimizer <name> <key>`; nil when all are finite.
    public static func firstNonFiniteTensor(of method: UDAMethod, optimizers: Bool) -> String? {
        for (name, module) in method.modules {
            for (key, tensor, _) in module.namedTensors() where !tensor.isFinite { return "module \(name) \(key)" }
        }
        guard optimizers else { return nil }
        for (name, optimizer) in method.optimizers {
            for (key, tensor) in optimizer.stateDict().entries where !tensor.isFinite { return "optimizer \(name) \(key)" }
        }
        return nil
    }

    /// Trains (or resumes) the method.
    /// - Parameters:
    ///   - sourceTraining: labelled source images used for training.
    ///   - sourceValidation: held-out labelled source images for model selection.
    ///   - targetTraining: target images; only images are read (labels are never used).
    ///   - targetDiagnostic: labelled target images whose accuracy is logged per epoch for research
    ///     (`EpochRecord.diagnosticTargetAccuracy`); never used to select or stop.
    ///   - resume: continue from `checkpoint.safetensors` when it exists.
    public func fit(sourceTraining: LabeledImages, sourceValidation: LabeledImages, targetTraining: LabeledImages,
                    targetDiagnostic: LabeledImages? = nil, resume: Bool = false) throws -> TrainingSummary {
        guard sourceTraining.count > 0, targetTraining.count > 0 else {
            throw ValidationFailure("training needs source and target images (\(sourceTraining.count) source, \(targetTraining.count) target)")
        }
        let batch = min(configuration.batchSize, sourceTraining.count)
        let targetBatch = batch * method.targetBatchMultiplier
        var state = TrainerState(generatorState: SeededGenerator(seed: configuration.seed).state)
        var lastCheckpoint: String? = nil
        var perEpoch = max(1, sourceTraining.count / batch)
        if let cap = configuration.maximumIterationsPerEpoch { perEpoch = min(perEpoch, max(1, cap)) }
        let epochs = method.learnsWeights ? configuration.epochs : 1
        if !method.learnsWeights { perEpoch = 0 }
        let total = max(1, perEpoch * epochs)
        // every rank checks and loads before the first collective, and all start or none does
        try group.agreeToStart {
            if group.isDistributed {
                guard method.supportsDataParallelTraining else {
                    throw ValidationFailure("\(method.name) cannot train over several processes: its losses use statistics of the "
                        + "whole batch beyond batch normalisation; data-parallel training supports \(MethodKind.dataParallelNames)")
                }
                guard batch % group.size == 0, targetBatch % group.size == 0 else {
                    throw ValidationFailure("the batch of \(batch) images does not split evenly over \(group.size) processes; "
                        + "give a batch that is a multiple of \(group.size)")
                }
            }
            if resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
                try Trainer.checkResumable(checkpointURL, options: runOptions, epochs: epochs, bestModel: bestModelURL)
                state = try Checkpoint.load(into: method, from: checkpointURL)
                if let bad = Trainer.firstNonFiniteTensor(of: method, optimizers: true) {
                    throw CheckpointError.corrupt(path: checkpointURL.path, reason: "\(bad) holds NaN or infinite values")
                }
                lastCheckpoint = checkpointURL.path
                log("resuming \(method.name) after epoch \(state.completedEpochs) of \(configuration.epochs)")
            }
            method.prepare(totalIterations: total, targetImages: targetTraining, batchSize: batch)
            if configuration.stepLogInterval != nil, group.isLeader { try resetStepLog(keepingEpochs: state.completedEpochs) }
        }
        var generator = SeededGenerator(state: state.generatorState)
        let shard = BatchShard(rank: group.rank, count: group.size)
        if group.isDistributed {
            for (_, module) in method.modules { group.broadcastTensors(of: module) }
            for (_, optimizer) in method.optimizers { optimizer.gradientAveraging = GradientAveraging(group: group) }
        }
        defer { for (_, optimizer) in method.optimizers { optimizer.gradientAveraging = nil } }
        let synchronization = group.isDistributed ? group : nil

        while state.completedEpochs < epochs && !state.stoppedEarly {
            let epoch = state.completedEpochs
            let started = Date()
            let sourceOrder = generator.permutation(sourceTraining.count)
            var targetOrder: [Int] = []
            while targetOrder.count < perEpoch * targetBatch { targetOrder += generator.permutation(targetTraining.count) }
            group.resetTiming()
            let bar = ProgressBar("epoch \(epoch + 1)/\(epochs)", total: perEpoch,
                                  enabled: configuration.showProgress && group.isLeader && perEpoch > 0)
            var sums: [String: Double] = [:]
            var stepLines: [String] = []
            for i in 0..<perEpoch {
                let source = sourceTraining.batch(Array(sourceOrder[(i * batch)..<((i + 1) * batch)]))
                let targetIndices = Array(targetOrder[(i * targetBatch)..<((i + 1) * targetBatch)])
                let target = TargetBatch(images: targetTraining.batch(targetIndices).images, indices: targetIndices)
                let context = IterationContext(epoch: epoch, iteration: epoch * perEpoch + i, iterationsPerEpoch: perEpoch,
                                               totalIterations: total, shard: shard)
                var losses = BatchNormSynchronization.$group.withValue(synchronization) {
                    method.step(source: source, target: target, context: context, generator: &generator)
                }
                if group.isDistributed { losses = averageOverRanks(losses) }
                for (term, value) in losses.sorted(by: { $0.key < $1.key }) {
                    guard value.isFinite else {
                        bar.finish()
                        throw TrainingError.nonFiniteLoss(epoch: epoch + 1, iteration: i + 1, term: term, value: value,
                                                          lastCheckpoint: lastCheckpoint)
                    }
                    sums[term, default: 0] += Double(value)
                }
                if let interval = configuration.stepLogInterval, (context.iteration + 1) % interval == 0 {
                    stepLines.append(Trainer.stepLogLine(epoch: epoch + 1, iteration: context.iteration + 1, terms: losses))
                }
                if let bad = Trainer.firstNonFiniteTensor(of: method, optimizers: false) {
                    bar.finish()
                    throw TrainingError.nonFiniteParameter(epoch: epoch + 1, iteration: i + 1, tensor: bad, lastCheckpoint: lastCheckpoint)
                }
                bar.advance(status: Trainer.format(losses.mapValues(Double.init)))
            }
            bar.finish()
            if let bad = Trainer.firstNonFiniteTensor(of: method, optimizers: true) {
                throw TrainingError.nonFiniteParameter(epoch: epoch + 1, iteration: perEpoch, tensor: bad, lastCheckpoint: lastCheckpoint)
            }
            if group.isDistributed, !group.agree(on: DataParallelGroup.fingerprint(of: method.modules.map(\.module))) {
                throw TrainingError.ranksDiverged(epoch: epoch + 1, lastCheckpoint: lastCheckpoint)
            }
            guard let scores = evaluateEpoch(sourceTraining: sourceTraining, sourceValidation: sourceValidation,
                                             targetTraining: targetTraining, targetDiagnostic: targetDiagnostic, batchSize: batch) else {
                throw TrainingError.nonFinitePrediction(epoch: epoch + 1, lastCheckpoint: lastCheckpoint)
            }
            let record = EpochRecord(epoch: epoch + 1, losses: sums.mapValues { $0 / Double(max(perEpoch, 1)) },
                                     validationAccuracy: scores.accuracy, validationLoss: scores.loss,
                                     seconds: Date().timeIntervalSince(started), devRisk: scores.dev?.risk,
                                     devMeanWeight: scores.dev?.meanWeight, diagnosticTargetAccuracy: scores.diagnosticTargetAccuracy)
            state.history.append(record)
            state.completedEpochs = epoch + 1
            let sourceImproved = !method.selectsOnSourceValidation || sourceValidation.count == 0
                || Trainer.improves(accuracy: scores.accuracy, loss: scores.loss, over: state)
            if sourceImproved {
                state.bestValidationAccuracy = scores.accuracy
                state.bestValidationLoss = scores.loss
                state.sourceSelectedEpoch = epoch + 1
            }
            let devImproved = scores.dev.map { $0.risk < (state.devBestRisk ?? .infinity) } ?? (state.devSelectedEpoch == nil)
            if devImproved {
                state.devBestRisk = scores.dev?.risk
                state.devSelectedEpoch = epoch + 1
            }
            state.selection = configuration.selection
            if configuration.selection == .sourceValidation ? sourceImproved : devImproved {
                state.bestEpoch = epoch + 1
                state.epochsWithoutImprovement = 0
                if group.isLeader { try Checkpoint.saveModel(of: method, epoch: epoch + 1, to: bestModelURL) }
            } else {
                state.epochsWithoutImprovement += 1
                if state.epochsWithoutImprovement >= configuration.patience { state.stoppedEarly = true }
            }
            state.generatorState = generator.state
            if group.isLeader {
                try Checkpoint.save(method: method, trainerState: state, options: runOptions, to: checkpointURL)
                if configuration.stepLogInterval != nil { try appendStepLog(stepLines) }
            }
            lastCheckpoint = checkpointURL.path
            let dev = scores.dev.map { String(format: "  dev %.4f", $0.risk) } ?? ""
            let diagnostic = scores.diagnosticTargetAccuracy.map { String(format: "  [diagnostic target_acc %.2f%%]", $0) } ?? ""
            let communication = group.isDistributed
                ? String(format: " (%.1fs in collectives over %d processes)", group.communicationSeconds, group.size) : ""
            log(String(format: "%@ epoch %d/%d  %@  val_acc %.2f%%  val_ce %.4f%@  selected epoch %d%@  %.1fs%@%@", method.name,
                       epoch + 1, epochs, Trainer.format(record.losses), scores.accuracy, scores.loss, dev,
                       state.bestEpoch, diagnostic, record.seconds, communication, state.stoppedEarly ? "  early stop" : ""))
            onEpochEnd?(record, state)
        }
        return TrainingSummary(state: state, bestModel: bestModelURL, checkpoint: checkpointURL)
    }

    /// Whether an epoch with held-out source `accuracy` and cross-entropy `loss` beats the best so far: a higher
    /// accuracy, or the same accuracy with a lower loss. The tie-break matters on small validation sets, where the
    /// accuracy saturates early and a strict comparison would freeze the selection at the first saturated epoch.
    public static func improves(accuracy: Double, loss: Double, over state: TrainerState) -> Bool {
        if (state.sourceSelectedEpoch ?? state.bestEpoch) == 0 || accuracy > state.bestValidationAccuracy { return true }
        return accuracy == state.bestValidationAccuracy && loss < (state.bestValidationLoss ?? .infinity)
    }

    /// What one epoch's evaluation measured.
    struct EpochScores {
        /// Held-out source accuracy (percent) and mean cross-entropy.
        var accuracy: Double
        var loss: Double
        var dev: DeepEmbeddedValidation.Estimate?
        var diagnosticTargetAccuracy: Double?
    }

    /// Images used per domain to fit DEV's domain classifier.
    static let devSampleCount = 400

    /// Validates the epoch's prediction model. Methods with `usesTargetNormalization` are validated on held-out source
    /// images normalised by those images' own statistics, and then keep statistics re-estimated on the whole target
    /// training set (AdaBN) for prediction, DEV's target features and the diagnostic. Nil when a logit is not finite.
    func evaluateEpoch(sourceTraining: LabeledImages, sourceValidation: LabeledImages, targetTraining: LabeledImages,
                       targetDiagnostic: LabeledImages?, batchSize: Int) -> EpochScores? {
        let predictor = method.predictor
        let normalizeSource = method.usesTargetNormalization && sourceValidation.count > 1
        let statisticsBatch = max(2, batchSize)
        if normalizeSource { BatchNormStatistics.reestimate(predictor, on: sourceValidation, batchSize: statisticsBatch) }
        guard let validation = predictions(sourceValidation, batchSize: batchSize) else { return nil }
        let sourceSample = Trainer.evenSample(sourceTraining, count: Trainer.devSampleCount)
        let sourceFeatures = predictions(sourceSample, batchSize: batchSize)?.features
        if method.usesTargetNormalization {
            BatchNormStatistics.reestimate(predictor, on: targetTraining, batchSize: statisticsBatch)
        }
        let targetFeatures = predictions(Trainer.evenSample(targetTraining, count: Trainer.devSampleCount), batchSize: batchSize)?.features
        var scores = EpochScores(accuracy: 0, loss: 0)
        if sourceValidation.count > 0 {
            scores.accuracy = 100 * Double(validation.correct) / Double(sourceValidation.count)
            scores.loss = validation.losses.reduce(0, +) / Double(sourceValidation.count)
            if let sourceFeatures, let targetFeatures {
                scores.dev = DeepEmbeddedValidation.estimate(sourceFeatures: sourceFeatures, targetFeatures: targetFeatures,
                                                             validationFeatures: validation.features,
                                                             validationLosses: validation.losses)
            }
        }
        if let targetDiagnostic, targetDiagnostic.count > 0, let target = predictions(targetDiagnostic, batchSize: batchSize) {
            scores.diagnosticTargetAccuracy = 100 * Double(target.correct) / Double(targetDiagnostic.count)
        }
        return scores
    }

    /// Features, per-image cross-entropy and the number of correct predictions of the prediction model on `images`
    /// (evaluation mode, no gradient); nil when a logit is not finite. Over several ranks each rank predicts its
    /// contiguous share of the images and the results are gathered (every rank gets the same, in image order).
    func predictions(_ images: LabeledImages, batchSize: Int) -> (features: [[Float]], losses: [Double], correct: Int)? {
        let predictor = method.predictor
        let rows = BatchShard(rank: group.rank, count: group.size).rows(of: images.count)
        var features: [[Float]] = [], losses: [Double] = [], correct = 0, start = rows.lowerBound, finite = true
        while start < rows.upperBound {
            let indices = Array(start..<min(start + batchSize, rows.upperBound))
            let (x, y) = images.batch(indices)
            let (f, logits) = evaluate(predictor) { let f = predictor.encoder(x); return (f, predictor.classifier(f)) }
            guard logits.scalars.allSatisfy(\.isFinite) else { finite = false; break }
            correct += zip(logits.argmax(axis: 1), y).filter { $0 == $1 }.count
            losses += withoutGradient { crossEntropy(logits: logits, labels: y, reduction: .none) }.scalars.map(Double.init)
            let d = f.shape[1]
            for i in 0..<indices.count { features.append(Array(f.scalars[(i * d)..<((i + 1) * d)])) }
            start += batchSize
        }
        guard group.isDistributed else { return finite ? (features, losses, correct) : nil }
        guard group.all(finite) else { return nil }
        // gather: each rank writes its rows into zeroed arrays, the sum over the ranks is the whole set
        let d = predictor.encoder.featureCount
        var allFeatures = [Float](repeating: 0, count: images.count * d)
        var allLosses = [Double](repeating: 0, count: images.count + 1)
        for (i, row) in features.enumerated() {
            allFeatures.replaceSubrange(((rows.lowerBound + i) * d)..<((rows.lowerBound + i + 1) * d), with: row)
        }
        allLosses.replaceSubrange(rows.lowerBound..<(rows.lowerBound + losses.count), with: losses)
        allLosses[images.count] = Double(correct)
        group.sum(&allFeatures)
        group.sum(&allLosses)
        return ((0..<images.count).map { Array(allFeatures[($0 * d)..<(($0 + 1) * d)]) }, Array(allLosses.prefix(images.count)),
                Int(allLosses[images.count]))
    }

    /// Up to `count` images spread evenly over `images` (every k-th), so the sample keeps the set's class balance.
    static func evenSample(_ images: LabeledImages, count: Int) -> LabeledImages {
        guard images.count > count else { return images }
        let stride = Double(images.count) / Double(count)
        return ImageSubset(images, indices: (0..<count).map { Int(Double($0) * stride) })
    }

    /// One `steps.jsonl` line (keys sorted, so the file is reproducible).
    static func stepLogLine(epoch: Int, iteration: Int, terms: [String: Float]) -> String {
        let values = terms.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        return "{\"epoch\": \(epoch), \"iteration\": \(iteration), \"terms\": {\(values)}}"
    }

    /// Starts the step log of a fresh run empty; a resumed run keeps the lines of its completed epochs and drops any
    /// of a later, unfinished one.
    private func resetStepLog(keepingEpochs completed: Int) throws {
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        var kept: [String] = []
        if completed > 0, let text = try? String(contentsOf: stepLogURL, encoding: .utf8) {
            kept = text.split(separator: "\n").map(String.init).filter { line in
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let epoch = object["epoch"] as? Int else { return false }
                return epoch <= completed
            }
        }
        try Data(kept.map { $0 + "\n" }.joined().utf8).writeAtomically(to: stepLogURL)
    }

    private func appendStepLog(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        let handle = try FileHandle(forWritingTo: stepLogURL)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// Each loss term's mean over the ranks (the ranks' shards are equal, so this is the whole batch's mean).
    private func averageOverRanks(_ losses: [String: Float]) -> [String: Float] {
        let keys = losses.keys.sorted()
        var values = keys.map { Double(losses[$0]!) }
        group.sum(&values)
        return Dictionary(uniqueKeysWithValues: zip(keys, values.map { Float($0 / Double(group.size)) }))
    }

    private func log(_ line: String) {
        if configuration.showProgress && group.isLeader { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    static func format(_ losses: [String: Double]) -> String {
        losses.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: "  ")
    }
}

/// `value` encoded as a JSON object, each top-level entry as `prefix + key` -> the entry's JSON text (sorted keys), so
/// two option sets compare entry by entry and a difference can be named.
func flattenedOptions<T: Encodable>(_ value: T, prefix: String = "") -> [String: String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let data = try? encoder.encode(value),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    var result: [String: String] = [:]
    for (key, entry) in object {
        // serialised inside a one-element array (top-level fragments are not portable), then unwrapped
        let text = (try? JSONSerialization.data(withJSONObject: [entry], options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) }.map { String($0.dropFirst().dropLast()) } ?? "\(entry)"
        result[prefix + key] = text
    }
    return result
}

/// The options whose values differ between `before` and `now`, as `key <before> <place>, <now> now` joined by `; `
/// (at most four; `trainer.*` keys only when nothing else differs, since they repeat the run's own options); nil
/// when the two agree.
func optionDifferences(_ before: [String: String], _ now: [String: String], place: String) -> String? {
    let keys = Set(before.keys).union(now.keys).filter { before[$0] != now[$0] }.sorted()
    guard !keys.isEmpty else { return nil }
    let own = keys.filter { !$0.hasPrefix("trainer.") }
    let shown = own.isEmpty ? keys : own
    return shown.prefix(4).map { "\($0) \(before[$0] ?? "unset") \(place), \(now[$0] ?? "unset") now" }.joined(separator: "; ")
        + (shown.count > 4 ? "; ..." : "")
}
