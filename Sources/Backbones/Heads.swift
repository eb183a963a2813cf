import Core

/// The classifier on top of a backbone: `Linear(featureCount, classCount)`, `[N, D] -> [N, classCount]` logits.
public final class ClassifierHead: Layer {
    public let fc: Linear
    public init(featureCount: Int = 256, classCount: Int = 3, seed: UInt64 = 1) {
        var g = SeededGenerator(seed: seed)
        fc = Linear(inputFeatures: featureCount, outputFeatures: classCount, generator: &g)
        _seed = seed
        super.init()
    }
    private let _seed: UInt64
    public var featureCount: Int { fc.weight.shape[1] }
    public var classCount: Int { fc.weight.shape[0] }
    public override func forward(_ features: Tensor) -> Tensor { fc(features) }
    public override func makeCopy() -> Module { ClassifierHead(featureCount: featureCount, classCount: classCount, seed: _seed) }
}

/// ADDA's domain discriminator (Tzeng et al. 2017): `Linear(D,256)-ReLU-Linear(256,256)-ReLU-Linear(256,2)`,
/// `[N, D]` features to `[N, 2]` domain logits (class 0 = source, 1 = target). Keys `layers.0`, `layers.2`, `layers.4`.
public final class DomainDiscriminator: Layer {
    public let layers: Sequential
    private let _featureCount: Int, _hidden: Int, _seed: UInt64
    public init(featureCount: Int = 256, hiddenCount: Int = 256, seed: UInt64 = 2) {
        var g = SeededGenerator(seed: seed)
        layers = Sequential([
            Linear(inputFeatures: featureCount, outputFeatures: hiddenCount, generator: &g), ReLU(),
            Linear(inputFeatures: hiddenCount, outputFeatures: hiddenCount, generator: &g), ReLU(),
            Linear(inputFeatures: hiddenCount, outputFeatures: 2, generator: &g),
        ])
        _featureCount = featureCount; _hidden = hiddenCount; _seed = seed
        super.init()
    }
    public override func forward(_ features: Tensor) -> Tensor { layers(features) }
    public override func makeCopy() -> Module { DomainDiscriminator(featureCount: _featureCount, hiddenCount: _hidden, seed: _seed) }
}

/// CGDM's pair of classifiers (Du et al. 2021, "Cross-Domain Gradient Discrepancy Minimization"): two
/// independently initialised `Linear(D, classCount)` heads whose disagreement drives adaptation; the prediction is
/// the sum of their logits.
public final class BiClassifier: Layer {
    public let classifier1: ClassifierHead
    public let classifier2: ClassifierHead
    public init(featureCount: Int = 256, classCount: Int = 3, seed: UInt64 = 3) {
        classifier1 = ClassifierHead(featureCount: featureCount, classCount: classCount, seed: seed)
        classifier2 = ClassifierHead(featureCount: featureCount, classCount: classCount, seed: seed &+ 1000)
        _seed = seed
        super.init()
    }
    private let _seed: UInt64
    /// Both heads' logits, each `[N, classCount]`.
    public func logits(_ features: Tensor) -> (Tensor, Tensor) { (classifier1(features), classifier2(features)) }
    /// The combined prediction: the sum of both heads' logits.
    public override func forward(_ features: Tensor) -> Tensor { let (a, b) = logits(features); return a + b }
    public override func makeCopy() -> Module {
        BiClassifier(featureCount: classifier1.featureCount, classCount: classifier1.classCount, seed: _seed)
    }
}
