/// The flat hyperparameter layout of earlier `run.json` files: every method's values side by side in one object. Read
/// only, to migrate such a file into `MethodHyperparameters` (never written). All eighteen keys must be present, as
/// that layout always wrote them: a file without one is refused rather than filled with today's default, which may not
/// be the value that run used.
struct LegacyHyperparameters: Codable {
    var learningRate: Float
    var fineTuningLearningRate: Float
    var weightDecay: Float
    var addaTargetLearningRate: Float
    var addaDiscriminatorLearningRate: Float
    var discriminatorHiddenCount: Int
    var emaDecay: Float
    var confidenceThreshold: Float
    var unsupervisedWeight: Float
    var classBalanceWeight: Float
    var cgdmNumK: Int
    var pseudoLabelInterval: Int
    var cgdmWarmupEpochs: Int
    var entropyWeight: Float
    var pseudoLabelWeight: Float
    var gradientDiscrepancyWeight: Float
    var relativeThreshold: Float
    var adaMatchTargetMultiplier: Int

    /// The layout's key names; a hyperparameters object with any of them and no `optimizer` section is this layout.
    static let keys: Set<String> = [
        "learningRate", "fineTuningLearningRate", "weightDecay", "addaTargetLearningRate", "addaDiscriminatorLearningRate",
        "discriminatorHiddenCount", "emaDecay", "confidenceThreshold", "unsupervisedWeight", "classBalanceWeight",
        "cgdmNumK", "pseudoLabelInterval", "cgdmWarmupEpochs", "entropyWeight", "pseudoLabelWeight",
        "gradientDiscrepancyWeight", "relativeThreshold", "adaMatchTargetMultiplier",
    ]
}

extension MethodHyperparameters {
    /// The same values in the per-method layout.
    init(migrating old: LegacyHyperparameters) {
        self.init()
        optimizer.learningRate = old.learningRate
        optimizer.fineTuningLearningRate = old.fineTuningLearningRate
        optimizer.weightDecay = old.weightDecay
        adda.targetLearningRate = old.addaTargetLearningRate
        adda.discriminatorLearningRate = old.addaDiscriminatorLearningRate
        adda.discriminatorHiddenCount = old.discriminatorHiddenCount
        selfEnsemble.emaDecay = old.emaDecay
        selfEnsemble.confidenceThreshold = old.confidenceThreshold
        selfEnsemble.unsupervisedWeight = old.unsupervisedWeight
        selfEnsemble.classBalanceWeight = old.classBalanceWeight
        cgdm.numK = old.cgdmNumK
        cgdm.pseudoLabelInterval = old.pseudoLabelInterval
        cgdm.warmupEpochs = old.cgdmWarmupEpochs
        cgdm.entropyWeight = old.entropyWeight
        cgdm.pseudoLabelWeight = old.pseudoLabelWeight
        cgdm.gradientDiscrepancyWeight = old.gradientDiscrepancyWeight
        adamatch.relativeThreshold = old.relativeThreshold
        adamatch.targetMultiplier = old.adaMatchTargetMultiplier
    }
}
