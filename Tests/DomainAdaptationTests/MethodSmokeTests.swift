import Backbones
import Core
import DomainAdaptation
import Foundation
import Testing

/// Every method runs a few iterations end to end through the trainer on tiny images, and its predictions have the
/// right shape and are finite.
@Suite struct MethodSmokeTests {
    func run(_ kind: MethodKind, builder: @escaping BackboneBuilder = tinyBuilder, backbone: String = "tiny",
             size: Int = 16, count: Int = 12, batch: Int = 4, iterations: Int = 2) throws -> RunResult {
        var config = ExperimentConfiguration(method: kind, backbone: backbone, epochs: 1, batchSize: batch, seed: 1)
        config.maximumIterationsPerEpoch = iterations
        config.showProgress = false
        config.hyperparameters.cgdm.pseudoLabelInterval = 1
        let source = textureImages(count: count, size: size, seed: 1)
        let target = textureImages(count: count, size: size, seed: 2, contrast: 0.5, offset: 1)
        let result = try Experiment.run(config, source: source, target: target, targetTest: target,
                                        runDirectory: temporaryDirectory("\(kind)"), makeBackbone: builder)
        #expect(result.training.completedEpochs == 1)
        let metrics = try #require(result.targetMetrics)
        #expect(metrics.sampleCount == count && metrics.accuracy.isFinite && metrics.aurocMacro.isFinite)
        for file in ["metrics.json", "best.safetensors", "checkpoint.safetensors", "roc_curves.svg",
                     "confusion_matrix.svg", "training_curves.svg", "run.json"] {
            #expect(FileManager.default.fileExists(atPath: result.runDirectory.appendingPathComponent(file).path), "\(file)")
        }
        return result
    }

    @Test func sourceOnly() throws { _ = try run(.sourceOnly) }
    @Test func adda() throws {
        let result = try run(.adda)
        #expect(FileManager.default.fileExists(atPath: result.runDirectory
            .appendingPathComponent("source-pretraining/best.safetensors").path))
        #expect(result.training.history[0].losses["discriminator"] != nil)
    }
    @Test func selfEnsemble() throws { _ = try run(.selfEnsemble) }
    @Test func cgdm() throws {
        let result = try run(.cgdm)
        #expect(result.training.history[0].losses["gradient_discrepancy"] != nil)
    }
    @Test func adaMatch() throws { _ = try run(.adamatch) }

    /// AdaBN takes no step: one epoch, the source model's weights, and batch-norm statistics of the target images.
    @Test func adaBN() throws {
        let result = try run(.adabn)
        #expect(result.training.history.count == 1 && result.training.history[0].losses.isEmpty)
        let config = try JSONDecoder().decode(ExperimentConfiguration.self,
                                              from: Data(contentsOf: result.runDirectory.appendingPathComponent("run.json")))
        let adapted = try Experiment.makeMethod(config, classCount: 3, makeBackbone: tinyBuilder) { _ in }
        try Checkpoint.loadModel(into: adapted, from: result.runDirectory.appendingPathComponent("best.safetensors"))
        let source = SourceOnly(encoder: TinyBackbone(), classCount: 3, seed: 0)
        try Checkpoint.loadModel(into: source, from: result.runDirectory.appendingPathComponent("source-pretraining/best.safetensors"))
        let a = adapted.predictor.encoder as! TinyBackbone, s = source.model.encoder as! TinyBackbone
        #expect(a.conv.weight.scalars == s.conv.weight.scalars && a.fc.weight.scalars == s.fc.weight.scalars)
        #expect(a.bn.runningMean.scalars != s.bn.runningMean.scalars)
        let target = textureImages(count: 12, size: 16, seed: 2, contrast: 0.5, offset: 1)
        BatchNormStatistics.reestimate(s, on: target, batchSize: 4)
        for (x, y) in zip(a.bn.runningMean.scalars + a.bn.runningVar.scalars, s.bn.runningMean.scalars + s.bn.runningVar.scalars) {
            #expect(abs(x - y) <= 1e-5 * max(1, abs(y)))
        }
    }

    /// `--init source`: an adapting method starts from the source model's weights (here before any step: zero
    /// iterations are impossible, so the check is on the method built by `makeMethod`).
    @Test func adaptingMethodsStartFromTheSourceModel() throws {
        let trained = SourceOnly(encoder: TinyBackbone(seed: 21), classCount: 3, seed: 22)
        for kind in [MethodKind.selfEnsemble, .adamatch, .cgdm] {
            var config = ExperimentConfiguration(method: kind, backbone: "tiny", epochs: 1, batchSize: 4, seed: 1)
            #expect(config.startsFromSource)
            let method = try Experiment.makeMethod(config, classCount: 3, makeBackbone: tinyBuilder) { source in
                try source.model.copyWeights(from: trained.model)
            }
            let encoder = method.predictor.encoder as! TinyBackbone, reference = trained.model.encoder as! TinyBackbone
            #expect(encoder.conv.weight.scalars == reference.conv.weight.scalars, "\(kind.rawValue)")
            config.initialization = .scratch
            let scratch = try Experiment.makeMethod(config, classCount: 3, makeBackbone: tinyBuilder) { _ in
                Issue.record("a method from scratch does not load a source model")
            }
            #expect((scratch.predictor.encoder as! TinyBackbone).conv.weight.scalars != reference.conv.weight.scalars)
        }
    }

    /// Evaluating a finished run from its directory reproduces the metrics of the run.
    @Test func evaluateFromRunDirectory() throws {
        let result = try run(.selfEnsemble)
        let test = textureImages(count: 12, size: 16, seed: 2, contrast: 0.5, offset: 1)
        let metrics = try Experiment.evaluate(runDirectory: result.runDirectory, test: test, makeBackbone: tinyBuilder)
        #expect(metrics == result.targetMetrics)
    }
}

/// Every method runs one training iteration with a real backbone of the CLI, the rotation-equivariant `c8resnet`, on
/// 33x33 images, batch 2 (AdaMatch: 6 target images), then predicts: the methods depend on the backbone only through
/// `Backbone.featureCount`. The trainer, checkpoints and metrics are covered with the tiny backbone above; here the
/// method is driven directly, because writing multi-megabyte checkpoints dominates a debug build's time. (`resnet18`
/// and `c4resnet` pass the same check but take 10-30 s per method in a debug build, mostly initialising and stepping
/// 11 M parameters; `deeplense train` exercises them in release builds.) CGDM starts its pseudo-label and
/// gradient-discrepancy terms at once (no warm-up epoch), so all three phases run.
@Suite struct RealBackboneSmokeTests {
    static let source = textureImages(count: 6, size: 33, seed: 1)
    static let target = textureImages(count: 6, size: 33, seed: 2, contrast: 0.5, offset: 1)

    static func step(_ kind: MethodKind, backbone: String) throws {
        var config = ExperimentConfiguration(method: kind, backbone: backbone, epochs: 1, batchSize: 2, seed: 1)
        config.hyperparameters.cgdm.warmupEpochs = 0
        config.hyperparameters.cgdm.numK = 1
        var generator = SeededGenerator(seed: 1)
        let context = IterationContext(epoch: 0, iteration: 0, iterationsPerEpoch: 1, totalIterations: 1)
        func iterate(_ method: UDAMethod) -> [String: Float] {
            method.prepare(totalIterations: 1, targetImages: target, batchSize: 2)
            let indices = Array(0..<(2 * method.targetBatchMultiplier))
            return method.step(source: source.batch([0, 1]),
                               target: TargetBatch(images: target.batch(indices).images, indices: indices),
                               context: context, generator: &generator)
        }
        let method = try Experiment.makeMethod(config, classCount: 3, makeBackbone: Experiment.factoryBackbone) {
            _ = iterate($0)
        }
        guard method.learnsWeights else { return }
        let losses = iterate(method)
        #expect(!losses.isEmpty && losses.values.allSatisfy { $0.isFinite }, "\(kind.rawValue) on \(backbone): \(losses)")
        let logits = method.predict(target.batch([4, 5]).images)
        #expect(logits.shape == [2, 3] && logits.scalars.allSatisfy { $0.isFinite }, "\(kind.rawValue) on \(backbone)")
    }

    @Test func everyMethodRunsOnC8ResNet() throws {
        for kind in MethodKind.allCases { try RealBackboneSmokeTests.step(kind, backbone: "c8resnet") }
    }
}
