import Backbones
import Core
import DomainAdaptation
import Foundation

/// A small backbone for fast tests: `Conv2D(1, channels, 3, padding 1) - BatchNorm2D - ReLU - global average pool -
/// Linear(channels, featureCount)`, `[N, 1, H, W] -> [N, featureCount]`.
final class TinyBackbone: Layer, Backbone {
    let conv: Conv2D
    let bn: BatchNorm2D
    let fc: Linear
    let featureCount: Int
    private let _channels: Int, _seed: UInt64
    var architectureName: String { "tiny" }
    var requiresSquareInput: Bool { false }

    init(featureCount: Int = 8, channels: Int = 6, seed: UInt64 = 0) {
        var g = SeededGenerator(seed: seed)
        conv = Conv2D(inputChannels: 1, outputChannels: channels, kernelSize: 3, padding: 1, generator: &g)
        bn = BatchNorm2D(featureCount: channels)
        fc = Linear(inputFeatures: channels, outputFeatures: featureCount, generator: &g)
        self.featureCount = featureCount
        _channels = channels
        _seed = seed
        super.init()
    }

    override func forward(_ images: Tensor) -> Tensor { fc(bn(conv(images)).relu().globalAvgPool2d()) }
    override func makeCopy() -> Module { TinyBackbone(featureCount: featureCount, channels: _channels, seed: _seed) }
}

let tinyBuilder: BackboneBuilder = { _, seed in TinyBackbone(seed: seed) }

/// The demo profile shrunk for end-to-end comparison tests: 24 training and 12 test images per domain, one epoch of
/// batch 6.
var tinyComparisonProfile: ComparisonProfile {
    var profile = ComparisonProfile.demo
    profile.trainCount = 24
    profile.testCount = 12
    profile.epochs = 1
    profile.batchSize = 6
    return profile
}

/// A three-class texture task: class 0 horizontal stripes, class 1 vertical stripes, class 2 a checkerboard, each with a
/// random phase, amplitude and additive noise. The target domain applies a global intensity change
/// `x -> contrast * x + offset` to freshly drawn images: a feature-level shift under which a source-trained network with
/// batch norm (normalising with source statistics) misreads the target images, and which adaptation that sees target
/// feature statistics (batch norm in training mode on target batches, adversarial or consistency terms) can undo.
func textureImages(count: Int, size: Int = 12, seed: UInt64, contrast: Float = 1, offset: Float = 0) -> InMemoryImages {
    var g = SeededGenerator(seed: seed)
    var pixels: [Float] = []
    var labels: [Int] = []
    for i in 0..<count {
        let label = i % 3
        let phase = g.nextInt(below: 4), amplitude = g.uniform(Float(0.6), Float(1.4))
        for y in 0..<size {
            for x in 0..<size {
                let on: Bool
                switch label {
                case 0: on = ((y + phase) / 2) % 2 == 0
                case 1: on = ((x + phase) / 2) % 2 == 0
                default: on = (((x + phase) / 2) + ((y + phase) / 2)) % 2 == 0
                }
                let value = (on ? amplitude : 0) + g.normal(std: 0.15)
                pixels.append(contrast * value + offset)
            }
        }
        labels.append(label)
    }
    return InMemoryImages(pixels: pixels, labels: labels, imageShape: [1, size, size], classCount: 3)
}

/// A fresh empty temporary directory.
func temporaryDirectory(_ name: String = #function) -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("da-tests-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func fixtureURL(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name)
}

/// `SourceOnly` on a `TinyBackbone` whose training step runs `before` and `after` hooks (with the iteration context)
/// around the real step: for tests that break the model at a chosen iteration.
final class HookedSourceOnly: UDAMethod {
    let inner = SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
    var before: (TinyBackbone, IterationContext) -> Void = { _, _ in }
    var after: (TinyBackbone, IterationContext) -> Void = { _, _ in }
    var name: String { "hooked" }
    var modules: [(name: String, module: Module)] { inner.modules }
    var optimizers: [(name: String, optimizer: Optimizer)] { inner.optimizers }
    var predictionModules: [(name: String, module: Module)] { inner.predictionModules }
    var predictor: EncoderClassifier { inner.predictor }
    var usesTargetNormalization: Bool { false }
    var supportsDataParallelTraining: Bool { true }
    var encoder: TinyBackbone { inner.model.encoder as! TinyBackbone }
    func start(from source: EncoderClassifier) throws { try inner.start(from: source) }
    func prepare(totalIterations: Int, targetImages: LabeledImages, batchSize: Int) {
        inner.prepare(totalIterations: totalIterations, targetImages: targetImages, batchSize: batchSize)
    }
    func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
              generator: inout SeededGenerator) -> [String: Float] {
        before(encoder, context)
        let losses = inner.step(source: source, target: target, context: context, generator: &generator)
        after(encoder, context)
        return losses
    }
}
