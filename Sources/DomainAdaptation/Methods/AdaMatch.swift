import Backbones
import Core
import Lensing

/// AdaMatch (Berthelot, Roelofs, Sohn, Carlini, Kurakin, ICLR 2022), unsupervised domain adaptation setting.
///
/// Per iteration with `B` source and `3B` target images, each in a weak (flips) and a strong view
/// (`TrainingAugmentations.adaMatchStrong`: the reference pipeline with its affine warp, on per-image [0, 1] rescaled pixels):
/// 1. one joint forward pass over all four views in training mode (batch norm sees both domains and updates its
///    running statistics), and a second pass over the two source views with batch statistics that leave the running
///    statistics untouched;
/// 2. random logit interpolation: source logits `lambda * Z_joint + (1 - lambda) * Z_source`, `lambda ~ U(0, 1)` per
///    element; the source loss is the mean of the weak- and strong-view cross-entropies;
/// 3. distribution alignment: target probabilities of the weak view are multiplied per class by
///    `mean(p_source) / mean(p_target)` (batch expectations per class) and renormalised to sum 1 per sample;
/// 4. relative confidence threshold: a target sample is used when its aligned top probability is at least
///    `tau * mean_i max_c p_source,ic` (`tau = 0.9`); its pseudo-label is the aligned argmax, and the strong target view
///    is trained against it with cross-entropy averaged over all `3B` samples;
/// 5. the target loss weight `mu` warms up as `adaMatchWarmup(step, totalSteps)` over the run's true step count.
/// Adam lr 1e-3, weight decay 5e-5, from scratch; `fineTuningLearningRate` with cosine decay when started from the
/// source model. Prediction normalises with target statistics (see `UDAMethod.usesTargetNormalization`). The strong
/// pipeline is the paper's and the reference's, unchanged: started from the source model, AdaMatch beats source-only
/// on the `shift` profile with it (notebook 04), so nothing was rescaled for 64x64 images.
public final class AdaMatch: UDAMethod {
    public let name = "adamatch"
    public let model: EncoderClassifier
    public let optimizer: Adam
    private let optimizerSettings: OptimizerSettings
    private let hyperparameters: Hyperparameters
    private let startsFromSource: Bool

    /// - Parameters:
    ///   - settings: Adam's learning rates (`learningRate` from scratch, `fineTuningLearningRate` from the source model)
    ///     and weight decay.
    ///   - startsFromSource: whether the networks start from a trained source model (`start(from:)`).
    public init(encoder: Backbone, classCount: Int, seed: UInt64,
                optimizerSettings settings: OptimizerSettings = OptimizerSettings(),
                hyperparameters: Hyperparameters = Hyperparameters(), startsFromSource: Bool = false) {
        model = EncoderClassifier(encoder: encoder,
                                  classifier: ClassifierHead(featureCount: encoder.featureCount, classCount: classCount, seed: seed))
        optimizer = Adam(parameters: model.trainableParameters(), learningRate: settings.learningRate,
                         weightDecay: settings.weightDecay)
        optimizerSettings = settings
        self.hyperparameters = hyperparameters
        self.startsFromSource = startsFromSource
    }

    public var targetBatchMultiplier: Int { hyperparameters.targetMultiplier }
    public var modules: [(name: String, module: Module)] { [("model", model)] }
    public var predictionModules: [(name: String, module: Module)] { [("model", model)] }
    public var predictor: EncoderClassifier { model }
    public func start(from source: EncoderClassifier) throws { try model.copyWeights(from: source) }
    public var optimizers: [(name: String, optimizer: Optimizer)] { [("adam", optimizer)] }

    /// Distribution alignment: `q_ic = p_ic r_c / sum_k p_ik r_k` with `r_c = mean_j s_jc / mean_j p_jc`.
    /// - Parameters:
    ///   - sourceProbabilities: `[Ns, C]` source class probabilities (weak view).
    ///   - targetProbabilities: `[Nt, C]` target class probabilities (weak view).
    /// - Returns: `[Nt, C]` aligned target probabilities, rows summing to 1.
    public static func alignDistribution(sourceProbabilities: Tensor, targetProbabilities: Tensor) -> Tensor {
        withoutGradient {
            let ratio = sourceProbabilities.mean(axes: [0], keepingDims: true)
                / targetProbabilities.mean(axes: [0], keepingDims: true).clamped(min: 1e-12)
            let scaled = targetProbabilities * ratio
            return scaled / scaled.sum(axes: [1], keepingDims: true)
        }
    }

    /// The relative confidence threshold `tau * mean_i max_c p_ic` over source probabilities `[N, C]`.
    public static func relativeThreshold(sourceProbabilities: Tensor, tau: Float) -> Float {
        tau * withoutGradient { sourceProbabilities.max(axis: 1).mean().item }
    }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        optimizer.learningRate = adaptationLearningRate(optimizerSettings, startsFromSource: startsFromSource,
                                                        iteration: context.iteration, totalIterations: context.totalIterations)
        let b = source.images.shape[0], bt = target.images.shape[0]
        let sourceWeak = TrainingAugmentations.flips(source.images, generator: &generator)
        let sourceStrong = TrainingAugmentations.adaMatchStrong(source.images, generator: &generator)
        let targetWeak = TrainingAugmentations.flips(target.images, generator: &generator)
        let targetStrong = TrainingAugmentations.adaMatchStrong(target.images, generator: &generator)
        model.train()
        let joint = model(Tensor.concat([sourceWeak, sourceStrong, targetWeak, targetStrong], axis: 0))
        let parts = joint.split(sizes: [2 * b, bt, bt], axis: 0)
        let sourceJoint = parts[0], targetWeakLogits = parts[1], targetStrongLogits = parts[2]
        let sourceOnly = model.withBatchNormMode(.batchStatistics) { model(Tensor.concat([sourceWeak, sourceStrong], axis: 0)) }
        let c = joint.shape[1]
        let lambda = Tensor(shape: [2 * b, c], scalars: (0..<(2 * b * c)).map { _ in generator.nextUniform() })
        let sourceLogits = lambda * sourceJoint + (1 - lambda) * sourceOnly
        let halves = sourceLogits.split(sizes: [b, b], axis: 0)
        let sourceLoss = (crossEntropy(logits: halves[0], labels: source.labels)
            + crossEntropy(logits: halves[1], labels: source.labels)) * 0.5

        let sourceProbabilities = withoutGradient { halves[0].softmax(axis: 1) }
        let targetProbabilities = withoutGradient { targetWeakLogits.softmax(axis: 1) }
        let aligned = AdaMatch.alignDistribution(sourceProbabilities: sourceProbabilities,
                                                 targetProbabilities: targetProbabilities)
        let threshold = AdaMatch.relativeThreshold(sourceProbabilities: sourceProbabilities, tau: hyperparameters.relativeThreshold)
        let confidence = aligned.max(axis: 1).scalars
        let mask = confidence.map { $0 >= threshold }
        let pseudoLabels = aligned.argmax(axis: 1)
        let targetLoss = UDALoss.maskedCrossEntropy(logits: targetStrongLogits, labels: pseudoLabels, mask: mask)
        let mu = adaMatchWarmup(step: context.iteration, totalSteps: context.totalIterations)
        let loss = sourceLoss + mu * targetLoss
        minimize(loss, with: optimizer)
        return [
            "source_ce": sourceLoss.item, "target_ce": targetLoss.item, "mu": mu,
            "mask_rate": Float(mask.filter { $0 }.count) / Float(max(mask.count, 1)),
        ]
    }
}
