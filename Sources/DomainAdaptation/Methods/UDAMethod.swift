import Backbones
import Core

/// Where one training iteration sits in the run.
public struct IterationContext: Sendable {
    /// 0-based epoch.
    public let epoch: Int
    /// 0-based iteration over the whole run (the optimisation step count before this step).
    public let iteration: Int
    /// Iterations in one epoch.
    public let iterationsPerEpoch: Int
    /// Iterations of the whole run (`epochs * iterationsPerEpoch`): the true step count schedules use.
    public let totalIterations: Int
    /// This process's rows of the global batches in data-parallel training (`BatchShard.whole` in one process).
    /// Methods that support data parallelism augment the global batch and then keep these rows.
    public let shard: BatchShard

    public init(epoch: Int, iteration: Int, iterationsPerEpoch: Int, totalIterations: Int, shard: BatchShard = .whole) {
        self.epoch = epoch
        self.iteration = iteration
        self.iterationsPerEpoch = iterationsPerEpoch
        self.totalIterations = totalIterations
        self.shard = shard
    }
}

/// A batch of unlabelled target images with their indices in the target training set (CGDM looks up its
/// pseudo-labels by index). Target labels are never given to methods.
public struct TargetBatch {
    /// `[B, C, H, W]`.
    public let images: Tensor
    public let indices: [Int]
    public init(images: Tensor, indices: [Int]) {
        self.images = images
        self.indices = indices
    }
}

/// An unsupervised domain adaptation method: the networks, optimizers and per-iteration update of one algorithm.
///
/// Methods depend on the backbone only through `Backbone.featureCount`, so every method runs on every backbone.
/// The trainer owns the loop, batching, model selection, checkpoints and NaN checks; a method only defines one
/// iteration and how to predict.
public protocol UDAMethod: AnyObject {
    /// The CLI name (`source-only`, `adabn`, `adda`, `self-ensemble`, `cgdm`, `adamatch`).
    var name: String { get }
    /// Every network whose state is checkpointed, by a stable name.
    var modules: [(name: String, module: Module)] { get }
    /// Every optimizer whose state is checkpointed, by a stable name.
    var optimizers: [(name: String, optimizer: Optimizer)] { get }
    /// The target batch size as a multiple of the source batch size (AdaMatch uses 3).
    var targetBatchMultiplier: Int { get }
    /// The modules that make the final prediction (saved as the best model).
    var predictionModules: [(name: String, module: Module)] { get }
    /// The encoder and classifier that make the prediction (features for model selection come from its encoder).
    var predictor: EncoderClassifier { get }
    /// Whether the method predicts with batch-norm statistics of the target domain. For such methods the trainer
    /// re-estimates the predictor's running statistics on the whole target training set after every epoch (AdaBN,
    /// Li et al. 2018) and validates on held-out source images with statistics of those images, so each domain is
    /// normalised by its own statistics. False only for source-only training, the baseline.
    var usesTargetNormalization: Bool { get }
    /// Whether the method takes optimisation steps (AdaBN does not: it only re-estimates statistics).
    var learnsWeights: Bool { get }
    /// Whether held-out source accuracy is a meaningful model-selection criterion for this method. ADDA's target
    /// encoder is trained to serve the target domain only, so its source accuracy falls as it adapts; ADDA therefore
    /// keeps the last epoch (its source pretraining is still selected on held-out source data).
    var selectsOnSourceValidation: Bool { get }
    /// Whether the method can train data-parallel (`Trainer.group` over several ranks): true when every loss is a
    /// mean over the images of the batch and batch normalisation is the only coupling between images, so averaging the
    /// ranks' gradients (with synchronised batch normalisation) reproduces the gradient of the whole batch. Losses
    /// built on batch-level statistics (Self-Ensemble's class balance, CGDM's gradient discrepancy, AdaMatch's
    /// relative threshold and distribution alignment) do not decompose that way.
    var supportsDataParallelTraining: Bool { get }

    /// Called once before the first iteration of a run or of a resumed run, with the true number of iterations
    /// and the unlabelled target training images (CGDM clusters them).
    func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int)

    /// One optimisation iteration on a labelled source batch and an unlabelled target batch.
    /// - Returns: the loss terms of this iteration by name (all must be finite).
    func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
              generator: inout SeededGenerator) -> [String: Float]

    /// Class logits `[N, classCount]` for images `[N, C, H, W]`, in evaluation mode and without gradients.
    func predict(_ images: Tensor) -> Tensor

    /// Starts from a trained source model (`--init source`): copies its encoder and classifier into the method's
    /// networks before the first iteration.
    func start(from source: EncoderClassifier) throws

    /// Method state that is neither a module nor an optimizer (pseudo-labels, counters), for checkpoints.
    func extraState() -> StateDict
    /// Restores `extraState()`.
    func loadExtraState(_ state: StateDict) throws
}

extension UDAMethod {
    public var targetBatchMultiplier: Int { 1 }
    public var selectsOnSourceValidation: Bool { true }
    public var supportsDataParallelTraining: Bool { false }
    public var usesTargetNormalization: Bool { true }
    public var learnsWeights: Bool { true }
    public func predict(_ images: Tensor) -> Tensor { evaluate(predictor) { predictor(images) } }
    public func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int) {}
    public func extraState() -> StateDict { StateDict() }
    public func loadExtraState(_ state: StateDict) throws {}
}

/// An encoder followed by a classifier: the prediction network of every method.
public final class EncoderClassifier: Layer {
    public let encoder: Backbone
    public let classifier: Layer

    public init(encoder: Backbone, classifier: Layer) {
        self.encoder = encoder
        self.classifier = classifier
        super.init()
    }

    public override func forward(_ images: Tensor) -> Tensor { classifier(encoder(images)) }

    public override func makeCopy() -> Module {
        EncoderClassifier(encoder: encoder.makeCopy() as! Backbone, classifier: classifier.makeCopy() as! Layer)
    }

    /// Copies the weights and buffers of `source` (same backbone and head shapes) into this network.
    public func copyWeights(from source: EncoderClassifier) throws {
        try encoder.load(stateDict: source.encoder.stateDict())
        try classifier.load(stateDict: source.classifier.stateDict())
    }
}

/// Runs `model` in evaluation mode without gradients, then restores its previous mode.
func evaluate<R>(_ model: Module, _ body: () -> R) -> R {
    let wasTraining = model.isTraining
    model.eval()
    defer { if wasTraining { model.train() } }
    return withoutGradient(body)
}

/// Zeroes the gradients, back-propagates `loss` and steps the optimizer.
func minimize(_ loss: Tensor, with optimizer: Optimizer) {
    optimizer.zeroGrad()
    loss.backward()
    optimizer.step()
}
