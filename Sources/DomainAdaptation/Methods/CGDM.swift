import Backbones
import Core
import Lensing

/// Cross-Domain Gradient Discrepancy Minimization (Du, Li, Su, Zhu, Lu, CVPR 2021).
///
/// An encoder `G` with two linear classifiers `F1`, `F2` (`BiClassifier`; prediction from the sum of their logits).
/// Each iteration has three phases:
/// 1. `G, F1, F2` minimise source cross-entropy of both heads, `entropyWeight` times the class-diversity term of
///    the CGDM code on target predictions (`UDALoss.classDiversity`) and `pseudoLabelWeight` times the confidence-weighted cross-entropy against the target pseudo-labels;
/// 2. `F1, F2` (encoder fixed) minimise source cross-entropy minus the classifier discrepancy on target, so the
///    heads disagree on target samples outside the source support (Saito et al. 2018);
/// 3. `G` (heads fixed) minimises the target discrepancy plus `gradientDiscrepancyWeight` times the gradient
///    discrepancy (`GradientDiscrepancy`, averaged over both heads), repeated `numK = 4` times.
/// Pseudo-labels come from `ClusterPseudoLabels` over the whole target training set, refreshed every
/// `pseudoLabelInterval = 100` iterations. Adam lr 1e-3, weight decay 5e-5 for encoder and heads.
public final class CGDM: UDAMethod {
    public let name = "cgdm"
    public let model: EncoderClassifier
    public let heads: BiClassifier
    public let encoderOptimizer: Adam
    public let classifierOptimizer: Adam
    public private(set) var pseudoLabels: ClusterPseudoLabels?
    private var targetImages: LabeledImages?
    private var batchSize = 100
    private let hyperparameters: Hyperparameters

    public init(encoder: Backbone, classCount: Int, seed: UInt64, hyperparameters: Hyperparameters = Hyperparameters()) {
        heads = BiClassifier(featureCount: encoder.featureCount, classCount: classCount, seed: seed)
        model = EncoderClassifier(encoder: encoder, classifier: heads)
        encoderOptimizer = Adam(parameters: encoder.trainableParameters(), learningRate: hyperparameters.learningRate,
                                weightDecay: hyperparameters.weightDecay)
        classifierOptimizer = Adam(parameters: heads.trainableParameters(), learningRate: hyperparameters.learningRate,
                                   weightDecay: hyperparameters.weightDecay)
        self.hyperparameters = hyperparameters
    }

    public var modules: [(name: String, module: Module)] { [("model", model)] }
    public var predictionModules: [(name: String, module: Module)] { [("model", model)] }
    public var optimizers: [(name: String, optimizer: Optimizer)] {
        [("encoder", encoderOptimizer), ("classifiers", classifierOptimizer)]
    }

    public func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int) {
        self.targetImages = targetImages
        self.batchSize = batchSize
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

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        if pseudoLabels == nil || context.iteration % hyperparameters.pseudoLabelInterval == 0 { refreshPseudoLabels() }
        let pseudo = pseudoLabels!
        let targetLabels = target.indices.map { pseudo.labels[$0] }
        let targetWeights = target.indices.map { pseudo.weights[$0] }
        let xs = TrainingAugmentations.flips(source.images, generator: &generator)
        let xt = TrainingAugmentations.flips(target.images, generator: &generator)
        let ys = source.labels
        model.train()
        let h = hyperparameters

        // Phase 1: encoder and both heads.
        var (s1, s2) = heads.logits(model.encoder(xs))
        var (t1, t2) = heads.logits(model.encoder(xt))
        let supervised = crossEntropy(logits: s1, labels: ys) + crossEntropy(logits: s2, labels: ys)
        let entropy = UDALoss.classDiversity(logits: t1) + UDALoss.classDiversity(logits: t2)
        let pseudoLoss = UDALoss.weightedCrossEntropy(logits: t1, labels: targetLabels, weights: targetWeights)
            + UDALoss.weightedCrossEntropy(logits: t2, labels: targetLabels, weights: targetWeights)
        let loss1 = supervised + h.entropyWeight * entropy + h.pseudoLabelWeight * pseudoLoss
        encoderOptimizer.zeroGrad()
        classifierOptimizer.zeroGrad()
        loss1.backward()
        encoderOptimizer.step()
        classifierOptimizer.step()

        // Phase 2: heads maximise their disagreement on target while staying accurate on source.
        let fs = withoutGradient { model.encoder(xs) }, ft = withoutGradient { model.encoder(xt) }
        (s1, s2) = heads.logits(fs)
        (t1, t2) = heads.logits(ft)
        let loss2 = crossEntropy(logits: s1, labels: ys) + crossEntropy(logits: s2, labels: ys)
            - UDALoss.classifierDiscrepancy(t1, t2)
        minimize(loss2, with: classifierOptimizer)

        // Phase 3: the encoder minimises the discrepancy and the gradient discrepancy, heads fixed.
        heads.freeze()
        defer { heads.freeze(false) }
        var discrepancy: Float = 0, gradientGap: Float = 0
        for _ in 0..<h.cgdmNumK {
            let fs = model.encoder(xs), ft = model.encoder(xt)
            (t1, t2) = heads.logits(ft)
            let disc = UDALoss.classifierDiscrepancy(t1, t2)
            let gap = (GradientDiscrepancy.loss(head: heads.classifier1.fc, sourceFeatures: fs, sourceLabels: ys,
                                                targetFeatures: ft, targetLabels: targetLabels, targetWeights: targetWeights)
                + GradientDiscrepancy.loss(head: heads.classifier2.fc, sourceFeatures: fs, sourceLabels: ys,
                                           targetFeatures: ft, targetLabels: targetLabels, targetWeights: targetWeights)) * 0.5
            minimize(disc + h.gradientDiscrepancyWeight * gap, with: encoderOptimizer)
            discrepancy = disc.item
            gradientGap = gap.item
        }
        return [
            "source_ce": supervised.item, "diversity": entropy.item, "pseudo_ce": pseudoLoss.item,
            "phase2": loss2.item, "discrepancy": discrepancy, "gradient_discrepancy": gradientGap,
        ]
    }

    public func predict(_ images: Tensor) -> Tensor { evaluate(model) { model(images) } }

    public func extraState() -> StateDict {
        guard let pseudoLabels else { return StateDict() }
        let n = pseudoLabels.labels.count
        return StateDict([
            ("pseudo_labels", Tensor(shape: [n], scalars: pseudoLabels.labels.map(Float.init))),
            ("pseudo_weights", Tensor(shape: [n], scalars: pseudoLabels.weights)),
        ])
    }

    public func loadExtraState(_ state: StateDict) throws {
        guard let labels = state["pseudo_labels"], let weights = state["pseudo_weights"] else { pseudoLabels = nil; return }
        pseudoLabels = ClusterPseudoLabels(labels: labels.scalars.map { Int($0) }, weights: weights.scalars)
    }
}
