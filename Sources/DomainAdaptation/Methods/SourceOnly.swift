import Backbones
import Core
import Lensing

/// Supervised training on the labelled source domain only: the baseline every adaptation method is compared to,
/// and ADDA's pretraining. Cross-entropy, Adam (lr 1e-3, weight decay 5e-5) with a one-cycle schedule
/// (Smith & Topin 2019) over the true number of steps; flips as augmentation.
public final class SourceOnly: UDAMethod {
    public let name = "source-only"
    public let model: EncoderClassifier
    public let optimizer: Adam
    private var scheduler: OneCycleLR?
    private let optimizerSettings: OptimizerSettings

    /// - Parameters:
    ///   - encoder: any backbone; its features feed a `ClassifierHead(featureCount, classCount)`.
    ///   - seed: seeds the classifier head.
    ///   - settings: Adam's `learningRate` (the one-cycle peak) and weight decay.
    public init(encoder: Backbone, classCount: Int, seed: UInt64,
                optimizerSettings settings: OptimizerSettings = OptimizerSettings()) {
        model = EncoderClassifier(encoder: encoder,
                                  classifier: ClassifierHead(featureCount: encoder.featureCount, classCount: classCount, seed: seed))
        optimizer = Adam(parameters: model.trainableParameters(), learningRate: settings.learningRate,
                         weightDecay: settings.weightDecay)
        optimizerSettings = settings
    }

    public var modules: [(name: String, module: Module)] { [("model", model)] }
    public var predictionModules: [(name: String, module: Module)] { [("model", model)] }
    public var predictor: EncoderClassifier { model }
    public var usesTargetNormalization: Bool { false }
    public var supportsDataParallelTraining: Bool { true }
    public var optimizers: [(name: String, optimizer: Optimizer)] { [("adam", optimizer)] }

    public func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int) {
        let schedule = OneCycleLR(optimizer: optimizer, maxLearningRate: optimizerSettings.learningRate,
                                  totalSteps: totalIterations)
        schedule.restore(stepCount: optimizer.stepCount)
        scheduler = schedule
    }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        model.train()
        let images = context.shard.local(TrainingAugmentations.flips(source.images, generator: &generator))
        let loss = crossEntropy(logits: model(images), labels: context.shard.local(source.labels))
        minimize(loss, with: optimizer)
        scheduler?.step()
        return ["source_ce": loss.item]
    }

    /// Fine-tunes a given model on labelled data (the in-domain ceiling starts from scratch instead).
    public func start(from source: EncoderClassifier) throws { try model.copyWeights(from: source) }
}
