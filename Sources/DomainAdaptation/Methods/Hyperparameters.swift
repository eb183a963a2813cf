/// Every method's hyperparameters, with the DeepLense reference values as defaults (DESIGN.md section 4).
/// Stored in the run's `run.json`, so a run is reproducible from its directory.
public struct Hyperparameters: Codable, Equatable, Sendable {
    /// Adam learning rate of supervised training (SourceOnly, ADDA's pretraining) and of Self-Ensemble, CGDM,
    /// AdaMatch. The one-cycle schedule peaks at this value.
    public var learningRate: Float = 1e-3
    /// Adam learning rate of Self-Ensemble, CGDM and AdaMatch when they start from the trained source model
    /// (`--init source`), annealed to zero by a half cosine over the run: ten times below the from-scratch rate, so
    /// fine-tuning stays near the source optimum (the choice on held-out source accuracy is in notebook 04).
    public var fineTuningLearningRate: Float = 1e-4
    /// Adam's (coupled, L2) weight decay for every optimizer.
    public var weightDecay: Float = 5e-5
    /// ADDA: Adam learning rate of the target encoder.
    public var addaTargetLearningRate: Float = 1e-5
    /// ADDA: Adam learning rate of the discriminator.
    public var addaDiscriminatorLearningRate: Float = 1e-4
    /// ADDA: hidden width of the discriminator MLP.
    public var discriminatorHiddenCount: Int = 256
    /// Self-Ensemble: EMA decay of the teacher's parameters. French et al.'s default 0.99 (a memory of about 100
    /// steps) suits runs of a few hundred steps; the reference package's 0.999 was meant for 100-epoch runs.
    public var emaDecay: Float = 0.99
    /// Self-Ensemble: teacher confidence threshold of the consistency mask.
    public var confidenceThreshold: Float = 0.96837722
    /// Self-Ensemble: weight of the unsupervised (consistency + class balance) loss.
    public var unsupervisedWeight: Float = 3.0
    /// Self-Ensemble: weight of the class-balance term inside the unsupervised loss.
    public var classBalanceWeight: Float = 0.005
    /// CGDM: encoder discrepancy-minimisation repeats per iteration.
    public var cgdmNumK: Int = 4
    /// CGDM: iterations between pseudo-label refreshes.
    public var pseudoLabelInterval: Int = 100
    /// CGDM: epochs of source training, discrepancy and entropy before pseudo-labels and the gradient discrepancy
    /// start (the reference starts them in the second epoch).
    public var cgdmWarmupEpochs: Int = 1
    /// CGDM: weight of the target entropy term (`UDALoss.informationEntropy`) in all three phases.
    public var entropyWeight: Float = 0.01
    /// CGDM: weight of the weighted pseudo-label cross-entropy in phase 1.
    public var pseudoLabelWeight: Float = 0.01
    /// CGDM: weight of the gradient discrepancy in phase 3.
    public var gradientDiscrepancyWeight: Float = 0.01
    /// AdaMatch: relative confidence threshold tau.
    public var relativeThreshold: Float = 0.9
    /// AdaMatch: target batch size as a multiple of the source batch size.
    public var adaMatchTargetMultiplier: Int = 3

    public init() {}
}

extension Hyperparameters {
    /// Decodes the `hyperparameters` of a `run.json` written by any version: a key missing from an older file keeps
    /// its default value, so run directories stay readable when a hyperparameter is added.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.learningRate, &learningRate)
        try read(.fineTuningLearningRate, &fineTuningLearningRate)
        try read(.weightDecay, &weightDecay)
        try read(.addaTargetLearningRate, &addaTargetLearningRate)
        try read(.addaDiscriminatorLearningRate, &addaDiscriminatorLearningRate)
        try read(.discriminatorHiddenCount, &discriminatorHiddenCount)
        try read(.emaDecay, &emaDecay)
        try read(.confidenceThreshold, &confidenceThreshold)
        try read(.unsupervisedWeight, &unsupervisedWeight)
        try read(.classBalanceWeight, &classBalanceWeight)
        try read(.cgdmNumK, &cgdmNumK)
        try read(.pseudoLabelInterval, &pseudoLabelInterval)
        try read(.cgdmWarmupEpochs, &cgdmWarmupEpochs)
        try read(.entropyWeight, &entropyWeight)
        try read(.pseudoLabelWeight, &pseudoLabelWeight)
        try read(.gradientDiscrepancyWeight, &gradientDiscrepancyWeight)
        try read(.relativeThreshold, &relativeThreshold)
        try read(.adaMatchTargetMultiplier, &adaMatchTargetMultiplier)
    }
}
