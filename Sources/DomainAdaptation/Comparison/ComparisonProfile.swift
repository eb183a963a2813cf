import Lensing

/// The scale of a `deeplense compare` run: image size, data counts and training length.
public struct ComparisonProfile: Codable, Equatable, Sendable {
    public var name: String
    /// Image side of the simulated data (64: Euclid-like 0.1"/px; 150: DeepLense-like 0.05"/px).
    public var imageSize: Int
    /// Simulated training images per domain (balanced over the three classes).
    public var trainCount: Int
    /// Simulated test images per domain.
    public var testCount: Int
    /// Epochs of source-only training and of the in-domain ceiling (and of adapting methods started from scratch).
    public var epochs: Int
    /// Epochs of the adapting methods that fine-tune the shared source model (nil: `epochs`). Fine-tuning starts from a
    /// trained network, and an adaptation step costs 1.0-1.3x (ADDA) to 7-10x (AdaMatch, CGDM) a source-only step
    /// (`Bench --filter step-`), so a profile can give them a shorter schedule.
    public var adaptationEpochs: Int?
    public var batchSize: Int
    public var patience: Int
    /// Caps each epoch (nil: one pass over the source training data).
    public var maximumIterationsPerEpoch: Int?
    /// Printed with the results: what the numbers can and cannot support.
    public var note: String
    /// The simulated target domain (`DomainPriors.named`; nil: Model B).
    public var targetDomain: String?
    /// Training seeds when `compare` is not given `--seeds`.
    public var defaultSeeds: [UInt64]?
    /// Methods when `compare` is not given `--methods` (nil: all).
    public var defaultMethods: [MethodKind]?
    /// Whether `compare` trains the in-domain ceiling unless told otherwise (nil: yes).
    public var trainsCeiling: Bool?

    /// The README's main command: both backbones trained to real classifiers (source-only near or above 80 % on Model A)
    /// and adapted to Model B by AdaBN, one seed, within 5 minutes on 2 cores. A smoke result.
    public static let demo = ComparisonProfile(
        name: "demo", imageSize: 64, trainCount: 1800, testCount: 300, epochs: 6, batchSize: 32, patience: 15,
        maximumIterationsPerEpoch: nil,
        note: "demo profile: one seed of a small run (1,800 training images, 6 epochs, source-only and AdaBN); a smoke result, not a scientific one",
        defaultSeeds: [1], defaultMethods: [.sourceOnly, .adabn], trainsCeiling: false)

    /// Euclid-like 64x64 Model A -> Model B, 3 seeds: the source models (and ceilings) train 6 epochs as in `demo`, and
    /// the adapting methods fine-tune them for one epoch, so both backbones x six methods x 3 seeds with ceilings fit
    /// within an hour on 2 cores.
    public static let small = ComparisonProfile(
        name: "small", imageSize: 64, trainCount: 1800, testCount: 1200, epochs: 6, adaptationEpochs: 1, batchSize: 32,
        patience: 15, maximumIterationsPerEpoch: nil,
        note: "small profile: 64x64 simulated data, 1,800 training images per domain, source models 6 epochs, adaptation 1 epoch of fine-tuning; read gains with their standard errors",
        defaultSeeds: [1, 2, 3])

    /// The reference project's scale (150x150, 30,000 train / 7,500 test per domain, up to 100 epochs, patience 15).
    public static let paper = ComparisonProfile(
        name: "paper", imageSize: 150, trainCount: 30_000, testCount: 7_500, epochs: 100, batchSize: 100, patience: 15,
        maximumIterationsPerEpoch: nil,
        note: "paper profile: the reference scale; needs a large machine (days on 2 cores)")

    /// A controlled appearance shift: Model A -> Model A observed with a wider PSF, another gain, a sky level and more
    /// noise (`DomainPriors.modelAShifted`), 64x64, 600 training and 600 test images per domain, 5 epochs, 3 seeds. The class
    /// physics is unchanged, so every adaptation method should beat source-only here.
    public static let shift = ComparisonProfile(
        name: "shift", imageSize: 64, trainCount: 600, testCount: 600, epochs: 5, batchSize: 32, patience: 15,
        maximumIterationsPerEpoch: nil,
        note: "shift profile: Model A -> Model A under other observing conditions (PSF, gain, sky, noise); a check that each method adapts, not a Model B result",
        targetDomain: "A-shifted", defaultSeeds: [1, 2, 3])

    public static let all = [demo, small, shift, paper]

    /// The target domain's priors.
    public var targetPriors: DomainPriors { DomainPriors.named(targetDomain ?? "B") ?? .modelB }

    public static func named(_ name: String) -> ComparisonProfile? { all.first { $0.name == name } }
}
