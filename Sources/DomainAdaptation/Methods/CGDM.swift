import Backbones
import Core
import Lensing

/// Cross-Domain Gradient Discrepancy Minimization (Du, Li, Su, Zhu, Lu, CVPR 2021).
///
/// An encoder `G` with two linear classifiers `F1`, `F2` (`BiClassifier`; prediction from the sum of their logits).
/// Every forward pass in training runs `G` separately over the source batch (batch statistics, running statistics
/// untouched) and the target batch (training mode), so each domain is normalised by its own statistics and the
/// running statistics that evaluation and the pseudo-labels use are the target's (the authors' code concatenates the
/// two batches; with prediction under target statistics that mixes the normalisation seen in training and in use).
/// With `E = UDALoss.informationEntropy` on target
/// logits, `D = UDALoss.classifierDiscrepancy` of the two heads on target, and `P` the pseudo-label cross-entropy
/// weighted by `UDALoss.entropyWeights`, each iteration has three phases:
/// 1. `G, F1, F2` minimise `CE(F1) + CE(F2) + entropyWeight * E + pseudoLabelWeight * P` (source cross-entropy of
///    both heads, target entropy, pseudo-labels);
/// 2. `F1, F2` minimise `CE(F1) + CE(F2) - D + entropyWeight * E` (encoder fixed): the heads disagree on target
///    samples outside the source support while staying accurate on source (Saito et al. 2018);
/// 3. `G` minimises `D + entropyWeight * E + gradientDiscrepancyWeight * GD` (heads fixed), repeated `numK = 4`
///    times, where `GD` is `GradientDiscrepancy` between the source loss and the pseudo-label loss, averaged over
///    both heads and differentiated analytically through the heads' gradients into the encoder.
/// Pseudo-labels come from `ClusterPseudoLabels` over the whole target training set (evaluation mode), computed at the
/// start of every epoch after the first and every `pseudoLabelInterval` iterations within an epoch; during the first
/// `warmupEpochs` epochs (1, as in the reference) the pseudo-label and gradient-discrepancy terms are off, because a
/// network that has not yet learnt the source classes gives pseudo-labels no better than chance.
/// Weights as in the reference package and the authors' VisDA code: entropy 0.01, pseudo-labels 0.01, gradient
/// discrepancy 0.01, discrepancy 1. Adam lr 1e-3, weight decay 5e-5 for encoder and heads from scratch.
///
/// Started from a trained source model (`--init source`, as the authors start from a pretrained network), `F1` is the
/// source classifier and `F2` the same classifier with each weight multiplied by `1 + 0.1 z`, `z ~ N(0, 1)` (two
/// identical heads have zero discrepancy and identical gradients, so they could never disagree); the warm-up epochs
/// are skipped (the source model's pseudo-labels are already informative), and Adam runs at `fineTuningLearningRate`
/// with cosine decay.
public final class CGDM: UDAMethod {
    public let name = "cgdm"
    public let model: EncoderClassifier
    public let heads: BiClassifier
    public let encoderOptimizer: Adam
    public let classifierOptimizer: Adam
    public private(set) var pseudoLabels: ClusterPseudoLabels?
    private var targetImages: LabeledImages?
    private var batchSize = 100
    private let optimizerSettings: OptimizerSettings
    private let hyperparameters: Hyperparameters
    private let startsFromSource: Bool
    private let seed: UInt64

    /// - Parameters:
    ///   - settings: Adam's learning rates (`learningRate` from scratch, `fineTuningLearningRate` from the source model)
    ///     and weight decay.
    ///   - startsFromSource: whether the networks start from a trained source model (`start(from:)`).
    public init(encoder: Backbone, classCount: Int, seed: UInt64,
                optimizerSettings settings: OptimizerSettings = OptimizerSettings(),
                hyperparameters: Hyperparameters = Hyperparameters(), startsFromSource: Bool = false) {
        heads = BiClassifier(featureCount: encoder.featureCount, classCount: classCount, seed: seed)
        model = EncoderClassifier(encoder: encoder, classifier: heads)
        encoderOptimizer = Adam(parameters: encoder.trainableParameters(), learningRate: settings.learningRate,
                                weightDecay: settings.weightDecay)
        classifierOptimizer = Adam(parameters: heads.trainableParameters(), learningRate: settings.learningRate,
                                   weightDecay: settings.weightDecay)
        optimizerSettings = settings
        self.hyperparameters = hyperparameters
        self.startsFromSource = startsFromSource
        self.seed = seed
    }

    public var modules: [(name: String, module: Module)] { [("model", model)] }
    public var predictionModules: [(name: String, module: Module)] { [("model", model)] }
    public var predictor: EncoderClassifier { model }
    public var optimizers: [(name: String, optimizer: Optimizer)] {
        [("encoder", encoderOptimizer), ("classifiers", classifierOptimizer)]
    }

    public func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int) {
        self.targetImages = targetImages
        self.batchSize = batchSize
    }

    public func start(from source: EncoderClassifier) throws {
        try model.encoder.load(stateDict: source.encoder.stateDict())
        let head = source.classifier.stateDict()
        try heads.classifier1.load(stateDict: head)
        try heads.classifier2.load(stateDict: head)
        var generator = SeededGenerator(seed: seed)
        for parameter in heads.classifier2.trainableParameters() {
            parameter.assign(parameter.scalars.map { $0 * (1 + 0.1 * Float(generator.nextNormal())) })
        }
    }

    /// Recomputes the pseudo-labels of the whole target training set with the current networks.
    public func refreshPseudoLabels() {
        guard let targetImages else { preconditionFailure("CGDM.prepare must run before training") }
        var features: [[Float]] = [], probabilities: [[Float]] = []
        var start = 0
        while start < targetImages.count {
            let indices = Array(start..<min(start + batchSize, targetImages.count))
            let images = targetImages.batch(indices).images
            let f = evaluate(model) { model.encoder(images) }
            let p = evaluate(model) { heads(f).softmax(axis: 1) }
            let d = f.shape[1], c = p.shape[1]
            for i in 0..<indices.count {
                features.append(Array(f.scalars[(i * d)..<((i + 1) * d)]))
                probabilities.append(Array(p.scalars[(i * c)..<((i + 1) * c)]))
            }
            start += batchSize
        }
        pseudoLabels = ClusterPseudoLabels(features: features, probabilities: probabilities)
    }

    /// Whether the pseudo-label and gradient-discrepancy terms are active in `epoch` (0-based).
    func usesPseudoLabels(epoch: Int) -> Bool { startsFromSource || epoch >= hyperparameters.warmupEpochs }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        let active = usesPseudoLabels(epoch: context.epoch)
        let batchInEpoch = context.iteration - context.epoch * context.iterationsPerEpoch
        if active && (pseudoLabels == nil || batchInEpoch % hyperparameters.pseudoLabelInterval == 0) { refreshPseudoLabels() }
        let targetLabels = active ? target.indices.map { pseudoLabels!.labels[$0] } : []
        let xs = TrainingAugmentations.flips(source.images, generator: &generator)
        let xt = TrainingAugmentations.flips(target.images, generator: &generator)
        let ys = source.labels
        let h = hyperparameters
        let learningRate = adaptationLearningRate(optimizerSettings, startsFromSource: startsFromSource,
                                                  iteration: context.iteration, totalIterations: context.totalIterations)
        encoderOptimizer.learningRate = learningRate
        classifierOptimizer.learningRate = learningRate
        model.train()

        func encode() -> (source: Tensor, target: Tensor) {
            (model.encoder.withBatchNormMode(.batchStatistics) { model.encoder(xs) }, model.encoder(xt))
        }
        func entropy(_ t1: Tensor, _ t2: Tensor) -> Tensor {
            UDALoss.informationEntropy(logits: t1) + UDALoss.informationEntropy(logits: t2)
        }

        // Phase 1: encoder and both heads learn the source classes, confident target predictions and pseudo-labels.
        var f = encode()
        var (s1, s2) = heads.logits(f.source)
        var (t1, t2) = heads.logits(f.target)
        let supervised = crossEntropy(logits: s1, labels: ys) + crossEntropy(logits: s2, labels: ys)
        var loss1 = supervised + h.entropyWeight * entropy(t1, t2)
        var pseudoLoss: Float = 0
        if active {
            let p = UDALoss.weightedCrossEntropy(logits: t1, labels: targetLabels, weights: UDALoss.entropyWeights(logits: t1))
                + UDALoss.weightedCrossEntropy(logits: t2, labels: targetLabels, weights: UDALoss.entropyWeights(logits: t2))
            loss1 = loss1 + h.pseudoLabelWeight * p
            pseudoLoss = p.item
        }
        encoderOptimizer.zeroGrad()
        classifierOptimizer.zeroGrad()
        loss1.backward()
        encoderOptimizer.step()
        classifierOptimizer.step()

        // Phase 2: the heads maximise their disagreement on target while staying accurate on source.
        f = withoutGradient { encode() }
        (s1, s2) = heads.logits(f.source)
        (t1, t2) = heads.logits(f.target)
        let disagreement = UDALoss.classifierDiscrepancy(t1, t2)
        let loss2 = crossEntropy(logits: s1, labels: ys) + crossEntropy(logits: s2, labels: ys) - disagreement
            + h.entropyWeight * entropy(t1, t2)
        minimize(loss2, with: classifierOptimizer)

        // Phase 3: the encoder minimises the discrepancy and the gradient discrepancy, heads fixed.
        heads.freeze()
        defer { heads.freeze(false) }
        var discrepancy: Float = 0, gradientGap: Float = 0
        for _ in 0..<h.numK {
            f = encode()
            (t1, t2) = heads.logits(f.target)
            let disc = UDALoss.classifierDiscrepancy(t1, t2)
            var loss3 = disc + h.entropyWeight * entropy(t1, t2)
            if active {
                let gap = (gradientDiscrepancy(head: heads.classifier1.fc, features: f, sourceLabels: ys, targetLabels: targetLabels)
                    + gradientDiscrepancy(head: heads.classifier2.fc, features: f, sourceLabels: ys, targetLabels: targetLabels)) * 0.5
                loss3 = loss3 + h.gradientDiscrepancyWeight * gap
                gradientGap = gap.item
            }
            minimize(loss3, with: encoderOptimizer)
            discrepancy = disc.item
        }
        return [
            "source_ce": supervised.item, "pseudo_ce": pseudoLoss, "phase2": loss2.item,
            "discrepancy": discrepancy, "gradient_discrepancy": gradientGap,
        ]
    }

    private func gradientDiscrepancy(head: Linear, features: (source: Tensor, target: Tensor), sourceLabels: [Int],
                                     targetLabels: [Int]) -> Tensor {
        let weights = UDALoss.entropyWeights(logits: head(features.target))
        return GradientDiscrepancy.loss(head: head, sourceFeatures: features.source, sourceLabels: sourceLabels,
                                        targetFeatures: features.target, targetLabels: targetLabels, targetWeights: weights)
    }

    public func extraState() -> StateDict {
        guard let pseudoLabels else { return StateDict() }
        let n = pseudoLabels.labels.count
        return StateDict([("pseudo_labels", Tensor(shape: [n], scalars: pseudoLabels.labels.map(Float.init)))])
    }

    public func loadExtraState(_ state: StateDict) throws {
        guard let labels = state["pseudo_labels"] else { pseudoLabels = nil; return }
        pseudoLabels = ClusterPseudoLabels(labels: labels.scalars.map { Int($0) })
    }
}
