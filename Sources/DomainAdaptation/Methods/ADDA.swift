import Backbones
import Core
import Lensing

/// Adversarial Discriminative Domain Adaptation (Tzeng, Hoffman, Saenko, Darrell, CVPR 2017).
///
/// Starts from a source model trained with `SourceOnly`: its encoder and classifier are frozen; the target encoder
/// is initialised as a copy of the source encoder. Each iteration alternates
/// 1. a discriminator step: `D` learns to tell source features `E_s(x_s)` (label 0) from target features
///    `E_t(x_t)` (label 1), cross-entropy over the two domains (`discriminatorLoss`);
/// 2. a target-encoder step with inverted labels: `E_t` is trained so that `D` labels its features as source
///    (`invertedLabelLoss`, the GAN loss of the paper rather than the minimax one).
/// Prediction uses the target encoder and the frozen source classifier. Adam: target encoder lr 1e-5, discriminator
/// lr 1e-4, weight decay 5e-5.
public final class ADDA: UDAMethod {
    public let name = "adda"
    public let sourceEncoder: Backbone
    public let classifier: Layer
    public let targetModel: EncoderClassifier
    public let discriminator: DomainDiscriminator
    public let targetOptimizer: Adam
    public let discriminatorOptimizer: Adam

    /// - Parameters:
    ///   - source: a trained source model (`SourceOnly.model`); it is not modified.
    ///   - seed: seeds the discriminator.
    ///   - settings: the weight decay of both optimizers (their learning rates are ADDA's own).
    public init(source: EncoderClassifier, seed: UInt64, optimizerSettings settings: OptimizerSettings = OptimizerSettings(),
                hyperparameters: Hyperparameters = Hyperparameters()) {
        sourceEncoder = source.encoder.deepCopy()
        sourceEncoder.freeze()
        sourceEncoder.eval()
        classifier = source.classifier.deepCopy()
        classifier.freeze()
        let targetEncoder = source.encoder.deepCopy()
        targetEncoder.freeze(false)
        targetModel = EncoderClassifier(encoder: targetEncoder, classifier: classifier)
        discriminator = DomainDiscriminator(featureCount: targetEncoder.featureCount,
                                            hiddenCount: hyperparameters.discriminatorHiddenCount, seed: seed)
        targetOptimizer = Adam(parameters: targetEncoder.trainableParameters(),
                               learningRate: hyperparameters.targetLearningRate, weightDecay: settings.weightDecay)
        discriminatorOptimizer = Adam(parameters: discriminator.trainableParameters(),
                                      learningRate: hyperparameters.discriminatorLearningRate,
                                      weightDecay: settings.weightDecay)
    }

    public var modules: [(name: String, module: Module)] {
        [("source_encoder", sourceEncoder), ("target_model", targetModel), ("discriminator", discriminator)]
    }
    public var selectsOnSourceValidation: Bool { false }
    public var supportsDataParallelTraining: Bool { true }
    public var predictionModules: [(name: String, module: Module)] { [("target_model", targetModel)] }
    public var predictor: EncoderClassifier { targetModel }

    /// ADDA is built from its source model (`init(source:)`); starting again from another one is refused.
    public func start(from source: EncoderClassifier) throws {
        throw ValidationFailure("ADDA takes its source model when it is created")
    }
    public var optimizers: [(name: String, optimizer: Optimizer)] {
        [("target_encoder", targetOptimizer), ("discriminator", discriminatorOptimizer)]
    }

    /// Discriminator cross-entropy with source features labelled 0 and target features labelled 1, averaged over
    /// the concatenated batch.
    public static func discriminatorLoss(discriminator: Layer, sourceFeatures: Tensor, targetFeatures: Tensor) -> Tensor {
        discriminatorOutputs(discriminator: discriminator, sourceFeatures: sourceFeatures, targetFeatures: targetFeatures).loss
    }

    /// The discriminator loss and the discriminator's accuracy (percent) at telling the domains apart on the same
    /// batch, before its update.
    public static func discriminatorOutputs(discriminator: Layer, sourceFeatures: Tensor,
                                            targetFeatures: Tensor) -> (loss: Tensor, accuracy: Float) {
        let logits = discriminator(Tensor.concat([sourceFeatures, targetFeatures], axis: 0))
        let labels = [Int](repeating: 0, count: sourceFeatures.shape[0]) + [Int](repeating: 1, count: targetFeatures.shape[0])
        let correct = zip(logits.argmax(axis: 1), labels).filter { $0 == $1 }.count
        return (crossEntropy(logits: logits, labels: labels), 100 * Float(correct) / Float(labels.count))
    }

    /// The target encoder's loss with inverted labels: cross-entropy of the discriminator on target features
    /// against the source label 0.
    public static func invertedLabelLoss(discriminator: Layer, targetFeatures: Tensor) -> Tensor {
        crossEntropy(logits: discriminator(targetFeatures), labels: [Int](repeating: 0, count: targetFeatures.shape[0]))
    }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        let sourceImages = context.shard.local(TrainingAugmentations.flips(source.images, generator: &generator))
        let targetImages = context.shard.local(TrainingAugmentations.flips(target.images, generator: &generator))
        discriminator.train()
        targetModel.encoder.train()
        let sourceFeatures = evaluate(sourceEncoder) { sourceEncoder(sourceImages) }
        let targetFeatures = targetModel.encoder(targetImages)
        let (dLoss, dAccuracy) = ADDA.discriminatorOutputs(discriminator: discriminator, sourceFeatures: sourceFeatures,
                                                           targetFeatures: targetFeatures.detached())
        minimize(dLoss, with: discriminatorOptimizer)

        discriminator.freeze()
        let gLoss = ADDA.invertedLabelLoss(discriminator: discriminator, targetFeatures: targetFeatures)
        minimize(gLoss, with: targetOptimizer)
        discriminator.freeze(false)
        return ["discriminator": dLoss.item, "discriminator_accuracy": dAccuracy, "target_encoder": gLoss.item]
    }
}
