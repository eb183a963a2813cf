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

    public init(epochs: Int, batchSize: Int, seed: UInt64, patience: Int = 15, maximumIterationsPerEpoch: Int? = nil,
                showProgress: Bool = true) {
        precondition(epochs > 0 && batchSize > 0 && patience > 0, "epochs, batch size and patience must be positive")
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.patience = patience
        self.maximumIterationsPerEpoch = maximumIterationsPerEpoch
        self.showProgress = showProgress
    }
}

/// Why training stopped abnormally.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, iteration: Int, term: String, value: Float, lastCheckpoint: String?)
    case nonFinitePrediction(epoch: Int, lastCheckpoint: String?)

    public var description: String {
        func kept(_ path: String?) -> String {
            path.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint had been written yet"
        }
        switch self {
        case let .nonFiniteLoss(epoch, iteration, term, value, path):
            return "training diverged: loss term '\(term)' is \(value) at epoch \(epoch), iteration \(iteration)\(kept(path))"
        case let .nonFinitePrediction(epoch, path):
            return "training diverged: the model predicts non-finite logits after epoch \(epoch)\(kept(path))"
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

    public var checkpointURL: URL { runDirectory.appendingPathComponent("checkpoint.safetensors") }
    public var bestModelURL: URL { runDirectory.appendingPathComponent("best.safetensors") }

    public init(method: UDAMethod, configuration: TrainerConfiguration, runDirectory: URL) {
        self.method = method
        self.configuration = configuration
        self.runDirectory = runDirectory
    }

    /// Trains (or resumes) the method.
    /// - Parameters:
    ///   - sourceTraining: labelled source images used for training.
    ///   - sourceValidation: held-out labelled source images for model selection.
    ///   - targetTraining: target images; only images are read (labels are never used).
    ///   - resume: continue from `checkpoint.safetensors` when it exists.
    public func fit(sourceTraining: LabeledImages, sourceValidation: LabeledImages, targetTraining: LabeledImages,
                    resume: Bool = false) throws -> TrainingSummary {
        precondition(sourceTraining.count > 0 && targetTraining.count > 0, "training needs source and target images")
        let batch = min(configuration.batchSize, sourceTraining.count)
        let targetBatch = batch * method.targetBatchMultiplier
        var perEpoch = max(1, sourceTraining.count / batch)
        if let cap = configuration.maximumIterationsPerEpoch { perEpoch = min(perEpoch, max(1, cap)) }
        let total = perEpoch * configuration.epochs

        var state = TrainerState(generatorState: SeededGenerator(seed: configuration.seed).state)
        var lastCheckpoint: String? = nil
        if resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            state = try Checkpoint.load(into: method, from: checkpointURL)
            lastCheckpoint = checkpointURL.path
            log("resuming \(method.name) after epoch \(state.completedEpochs) of \(configuration.epochs)")
        }
        method.prepare(totalIterations: total, targetImages: targetTraining, batchSize: batch)
        var generator = SeededGenerator(state: state.generatorState)

        while state.completedEpochs < configuration.epochs && !state.stoppedEarly {
            let epoch = state.completedEpochs
            let started = Date()
            let sourceOrder = generator.permutation(sourceTraining.count)
            var targetOrder: [Int] = []
            while targetOrder.count < perEpoch * targetBatch { targetOrder += generator.permutation(targetTraining.count) }
            let bar = ProgressBar("epoch \(epoch + 1)/\(configuration.epochs)", total: perEpoch, enabled: configuration.showProgress)
            var sums: [String: Double] = [:]
            for i in 0..<perEpoch {
                let source = sourceTraining.batch(Array(sourceOrder[(i * batch)..<((i + 1) * batch)]))
                let targetIndices = Array(targetOrder[(i * targetBatch)..<((i + 1) * targetBatch)])
                let target = TargetBatch(images: targetTraining.batch(targetIndices).images, indices: targetIndices)
                let context = IterationContext(epoch: epoch, iteration: epoch * perEpoch + i, iterationsPerEpoch: perEpoch,
                                               totalIterations: total)
                let losses = method.step(source: source, target: target, context: context, generator: &generator)
                for (term, value) in losses.sorted(by: { $0.key < $1.key }) {
                    guard value.isFinite else {
                        bar.finish()
                        throw TrainingError.nonFiniteLoss(epoch: epoch + 1, iteration: i + 1, term: term, value: value,
                                                          lastCheckpoint: lastCheckpoint)
                    }
                    sums[term, default: 0] += Double(value)
                }
                bar.advance(status: Trainer.format(losses.mapValues(Double.init)))
            }
            bar.finish()
            guard let (accuracy, loss) = validationScores(sourceValidation, batchSize: batch) else {
                throw TrainingError.nonFinitePrediction(epoch: epoch + 1, lastCheckpoint: lastCheckpoint)
            }
            let record = EpochRecord(epoch: epoch + 1, losses: sums.mapValues { $0 / Double(perEpoch) },
                                     validationAccuracy: accuracy, validationLoss: loss,
                                     seconds: Date().timeIntervalSince(started))
            state.history.append(record)
            state.completedEpochs = epoch + 1
            if !method.selectsOnSourceValidation || sourceValidation.count == 0 || Trainer.improves(accuracy: accuracy, loss: loss, over: state) {
                state.bestValidationAccuracy = accuracy
                state.bestValidationLoss = loss
                state.bestEpoch = epoch + 1
                state.epochsWithoutImprovement = 0
                try Checkpoint.saveModel(of: method, epoch: epoch + 1, to: bestModelURL)
            } else {
                state.epochsWithoutImprovement += 1
                if state.epochsWithoutImprovement >= configuration.patience { state.stoppedEarly = true }
            }
            state.generatorState = generator.state
            try Checkpoint.save(method: method, trainerState: state, to: checkpointURL)
            lastCheckpoint = checkpointURL.path
            log(String(format: "%@ epoch %d/%d  %@  val_acc %.2f%%  val_ce %.4f  best %.2f%% (epoch %d)  %.1fs%@", method.name,
                       epoch + 1, configuration.epochs, Trainer.format(record.losses), accuracy, loss,
                       state.bestValidationAccuracy, state.bestEpoch, record.seconds,
                       state.stoppedEarly ? "  early stop" : ""))
            onEpochEnd?(record, state)
        }
        return TrainingSummary(state: state, bestModel: bestModelURL, checkpoint: checkpointURL)
    }

    /// Whether an epoch with held-out source `accuracy` and cross-entropy `loss` beats the best so far: a higher
    /// accuracy, or the same accuracy with a lower loss. The tie-break matters on small validation sets, where the
    /// accuracy saturates early and a strict comparison would freeze the selection at the first saturated epoch.
    public static func improves(accuracy: Double, loss: Double, over state: TrainerState) -> Bool {
        if state.bestEpoch == 0 || accuracy > state.bestValidationAccuracy { return true }
        return accuracy == state.bestValidationAccuracy && loss < (state.bestValidationLoss ?? .infinity)
    }

    /// Accuracy in percent and mean cross-entropy of the prediction on `images`; nil when a logit is not finite.
    /// An empty set scores 0 % and loss 0.
    func validationScores(_ images: LabeledImages, batchSize: Int) -> (accuracy: Double, loss: Double)? {
        guard images.count > 0 else { return (0, 0) }
        var correct = 0, start = 0, totalLoss = 0.0
        while start < images.count {
            let indices = Array(start..<min(start + batchSize, images.count))
            let (x, y) = images.batch(indices)
            let logits = method.predict(x)
            guard logits.scalars.allSatisfy(\.isFinite) else { return nil }
            correct += zip(logits.argmax(axis: 1), y).filter { $0 == $1 }.count
            totalLoss += Double(withoutGradient { crossEntropy(logits: logits, labels: y, reduction: .sum) }.item)
            start += batchSize
        }
        return (100 * Double(correct) / Double(images.count), totalLoss / Double(images.count))
    }

    private func log(_ line: String) {
        if configuration.showProgress { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    static func format(_ losses: [String: Double]) -> String {
        losses.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: "  ")
    }
}
