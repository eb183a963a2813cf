import Backbones
import Core
import DomainAdaptation

/// One training iteration of each method of the comparison at batch 32 on 64x64 images, built as `compare` builds
/// it (adapting methods start from a source model; the weights' values do not affect timing): source batch 32,
/// target batch 32 x the method's `targetBatchMultiplier`. The ratio of a method's time to `source-only`'s is
/// what an epoch of that method costs relative to source training, per source batch.
///   `<method>-step-<backbone>-64`, images/s counts source images.
/// Not included: the per-epoch work outside the step (CGDM's pseudo-labels over the target set, the trainer's
/// evaluation and batch-norm re-estimation), which is one forward pass per image and per use.
func methodStepCase(_ kind: MethodKind, backbone: String) -> BenchCase {
    BenchCase(name: "\(kind.rawValue)-step-\(backbone)-64", images: networkBatch, reportsPeakMemory: true) {
        var configuration = ExperimentConfiguration(method: kind, backbone: backbone, epochs: 1, batchSize: networkBatch,
                                                    seed: 1)
        configuration.initialization = kind == .sourceOnly ? nil : .source
        configuration.showProgress = false
        let method = try! Experiment.makeMethod(configuration, classCount: 3, makeBackbone: Experiment.factoryBackbone,
                                                loadSource: { _ in })
        let targetCount = 4 * networkBatch * method.targetBatchMultiplier
        let side = 64
        let target = InMemoryImages(pixels: benchTensor([targetCount, 1, side, side], seed: 8).scalars,
                                    labels: (0..<targetCount).map { $0 % 3 }, imageShape: [1, side, side], classCount: 3)
        let iterations = 1000
        method.prepare(totalIterations: iterations, targetImages: target, batchSize: networkBatch)
        let sourceImages = benchTensor([networkBatch, 1, side, side], seed: 7)
        let labels = (0..<networkBatch).map { $0 % 3 }
        let targetIndices = Array(0..<(networkBatch * method.targetBatchMultiplier))
        let targetBatch = TargetBatch(images: target.batch(targetIndices).images, indices: targetIndices)
        var generator = SeededGenerator(seed: 9)
        var iteration = 0
        return {
            // Iterations 1..99 of an epoch: CGDM refreshes its pseudo-labels only at the first (warm-up) run.
            iteration = iteration % 98 + 1
            let context = IterationContext(epoch: 1, iteration: iteration, iterationsPerEpoch: iterations,
                                           totalIterations: 2 * iterations)
            _ = method.step(source: (sourceImages, labels), target: targetBatch, context: context, generator: &generator)
        }
    }
}

let methodCases: [BenchCase] = ["resnet18", "c8resnet"].flatMap { backbone in
    MethodKind.allCases.filter { $0 != .adabn }.map { methodStepCase($0, backbone: backbone) }
}
