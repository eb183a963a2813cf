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
        config.hyperparameters.pseudoLabelInterval = 1
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

    /// Evaluating a finished run from its directory reproduces the metrics of the run.
    @Test func evaluateFromRunDirectory() throws {
        let result = try run(.selfEnsemble)
        let test = textureImages(count: 12, size: 16, seed: 2, contrast: 0.5, offset: 1)
        let metrics = try Experiment.evaluate(runDirectory: result.runDirectory, test: test, makeBackbone: tinyBuilder)
        #expect(metrics == result.targetMetrics)
    }
}
