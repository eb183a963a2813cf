/// The Adam settings every method shares, with the DeepLense reference values as defaults (DESIGN.md section 4).
public struct OptimizerSettings: Codable, Equatable, Sendable {
    /// Adam learning rate of supervised training (SourceOnly, ADDA's pretraining) and of Self-Ensemble, CGDM,
    /// AdaMatch. The one-cycle schedule peaks at this value.
    public var learningRate: Float = 1e-3
    /// Adam learning rate of Self-Ensemble, CGDM and AdaMatch when they start from the trained source model
    /// (`--init source`), annealed to zero by a half cosine over the run: ten times below the from-scratch rate, so
    /// fine-tuning stays near the source optimum (the choice on held-out source accuracy is in notebook 04).
    public var fineTuningLearningRate: Float = 1e-4
    /// Adam's (coupled, L2) weight decay for every optimizer.
    public var weightDecay: Float = 5e-5

    public init() {}
}

extension ADDA {
    /// ADDA's own hyperparameters (Tzeng et al. 2017; reference values).
    public struct Hyperparameters: Codable, Equatable, Sendable {
        /// Adam learning rate of the target encoder.
        public var targetLearningRate: Float = 1e-5
        /// Adam learning rate of the discriminator.
        public var discriminatorLearningRate: Float = 1e-4
        /// Hidden width of the discriminator MLP.
        public var discriminatorHiddenCount: Int = 256

        public init() {}
    }
}

extension SelfEnsemble {
    /// Self-Ensemble's own hyperparameters (French et al. 2018).
    public struct Hyperparameters: Codable, Equatable, Sendable {
        /// EMA decay of the teacher's parameters. French et al.'s default 0.99 (a memory of about 100 steps) suits runs
        /// of a few hundred steps; the reference package's 0.999 was meant for 100-epoch runs.
        public var emaDecay: Float = 0.99
        /// Teacher confidence threshold of the consistency mask.
        public var confidenceThreshold: Float = 0.96837722
        /// Weight of the unsupervised (consistency + class balance) loss.
        public var unsupervisedWeight: Float = 3.0
        /// Weight of the class-balance term inside the unsupervised loss.
        public var classBalanceWeight: Float = 0.005

        public init() {}
    }
}

extension CGDM {
    /// CGDM's own hyperparameters (Du et al. 2021; reference package and the authors' VisDA code).
    public struct Hyperparameters: Codable, Equatable, Sendable {
        /// Encoder discrepancy-minimisation repeats per iteration.
        public var numK: Int = 4
        /// Iterations between pseudo-label refreshes.
        public var pseudoLabelInterval: Int = 100
        /// Epochs of source training, discrepancy and entropy before pseudo-labels and the gradient discrepancy start
        /// (the reference starts them in the second epoch).
        public var warmupEpochs: Int = 1
        /// Weight of the target entropy term (`UDALoss.informationEntropy`) in all three phases.
        public var entropyWeight: Float = 0.01
        /// Weight of the weighted pseudo-label cross-entropy in phase 1.
        public var pseudoLabelWeight: Float = 0.01
        /// Weight of the gradient discrepancy in phase 3.
        public var gradientDiscrepancyWeight: Float = 0.01

        public init() {}
    }
}

extension AdaMatch {
    /// AdaMatch's own hyperparameters (Berthelot et al. 2022).
    public struct Hyperparameters: Codable, Equatable, Sendable {
        /// Relative confidence threshold tau.
        public var relativeThreshold: Float = 0.9
        /// Target batch size as a multiple of the source batch size.
        public var targetMultiplier: Int = 3

        public init() {}
    }
}

/// The hyperparameters of a run: the shared optimizer settings and each method's own values (source-only training and
/// AdaBN have none of their own). Stored in the run's `run.json` as
/// `{"optimizer": {...}, "adda": {...}, "selfEnsemble": {...}, "cgdm": {...}, "adamatch": {...}}`.
///
/// Decoding is exact: a missing or unknown key at either level is an error naming it, never a silent default. The flat
/// layout of earlier `run.json` files (`learningRate`, `addaTargetLearningRate`, `cgdmNumK`, ... side by side) is
/// recognised by its keys and migrated key by key (`LegacyHyperparameters`), under the same exactness.
public struct MethodHyperparameters: Codable, Equatable, Sendable {
    public var optimizer = OptimizerSettings()
    public var adda = ADDA.Hyperparameters()
    public var selfEnsemble = SelfEnsemble.Hyperparameters()
    public var cgdm = CGDM.Hyperparameters()
    public var adamatch = AdaMatch.Hyperparameters()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case optimizer, adda, selfEnsemble, cgdm, adamatch
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let given = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        if !given.contains(CodingKeys.optimizer.rawValue), given.contains(where: LegacyHyperparameters.keys.contains) {
            self = MethodHyperparameters(migrating: try ExactlyDecoded<LegacyHyperparameters>(from: decoder).value)
            return
        }
        try rejectUnknownKeys(given, known: CodingKeys.allCases.map(\.rawValue), decoder: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        optimizer = try c.decode(ExactlyDecoded<OptimizerSettings>.self, forKey: .optimizer).value
        adda = try c.decode(ExactlyDecoded<ADDA.Hyperparameters>.self, forKey: .adda).value
        selfEnsemble = try c.decode(ExactlyDecoded<SelfEnsemble.Hyperparameters>.self, forKey: .selfEnsemble).value
        cgdm = try c.decode(ExactlyDecoded<CGDM.Hyperparameters>.self, forKey: .cgdm).value
        adamatch = try c.decode(ExactlyDecoded<AdaMatch.Hyperparameters>.self, forKey: .adamatch).value
    }

    /// Every value by its dotted name (`hyperparameters.cgdm.numK` -> `4`), JSON text, so a resume names the one that
    /// changed.
    var options: [String: String] {
        var result: [String: String] = [:]
        func add<T: Encodable>(_ key: CodingKeys, _ value: T) {
            result.merge(flattenedOptions(value, prefix: "hyperparameters.\(key.rawValue).")) { $1 }
        }
        add(.optimizer, optimizer)
        add(.adda, adda)
        add(.selfEnsemble, selfEnsemble)
        add(.cgdm, cgdm)
        add(.adamatch, adamatch)
        return result
    }
}
