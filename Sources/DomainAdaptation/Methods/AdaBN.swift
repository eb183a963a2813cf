import Backbones
import Core

/// Adaptive batch normalisation (Li, Wang, Shi, Liu, Hou, "Revisiting batch normalization for practical domain
/// adaptation", ICLR workshop 2017; Pattern Recognition 2018): the trained source model with every batch-norm layer's
/// running mean and variance replaced by statistics of the target training images (cumulative average over batches,
/// equivariant batch norm included). No gradient step: the zero-cost baseline that tells re-normalisation apart
/// from what the other methods learn. Always starts from the source model.
///
/// The re-estimation itself is the trainer's (`UDAMethod.usesTargetNormalization`); the method takes no steps, so one
/// "epoch" validates on held-out source images and saves the model.
public final class AdaBN: UDAMethod {
    public let name = "adabn"
    public let model: EncoderClassifier

    public init(encoder: Backbone, classCount: Int, seed: UInt64) {
        model = EncoderClassifier(encoder: encoder,
                                  classifier: ClassifierHead(featureCount: encoder.featureCount, classCount: classCount, seed: seed))
    }

    public var modules: [(name: String, module: Module)] { [("model", model)] }
    public var predictionModules: [(name: String, module: Module)] { [("model", model)] }
    public var predictor: EncoderClassifier { model }
    public var optimizers: [(name: String, optimizer: Optimizer)] { [] }
    public var learnsWeights: Bool { false }
    public var supportsDataParallelTraining: Bool { true }

    public func start(from source: EncoderClassifier) throws { try model.copyWeights(from: source) }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        preconditionFailure("AdaBN takes no optimisation steps")
    }
}
