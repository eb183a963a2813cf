import Core
import DomainAdaptation
import Testing

/// AdaBN's re-estimation: the cumulative average over batches of each batch's mean and unbiased variance.
@Suite struct BatchNormStatisticsTests {
    final class NormOnly: Layer {
        let bn = BatchNorm2D(featureCount: 1)
        override func forward(_ x: Tensor) -> Tensor { bn(x) }
        override func makeCopy() -> Module { NormOnly() }
    }

    /// Eight 1x2x2 images in two batches of four: running mean = mean of the two batch means, running variance = mean
    /// of the two unbiased batch variances (16 values each, so `* 16/15`), computed here in Double.
    @Test func reestimateAveragesBatchStatistics() {
        var g = SeededGenerator(seed: 1)
        let pixels = (0..<32).map { _ in Float(g.nextNormal() * 2 + 3) }
        let images = InMemoryImages(pixels: pixels, labels: [Int](repeating: 0, count: 8), imageShape: [1, 2, 2], classCount: 1)
        let model = NormOnly()
        model.bn.runningMean.assign([42])
        model.eval()
        BatchNormStatistics.reestimate(model, on: images, batchSize: 4)
        func stats(_ values: ArraySlice<Float>) -> (Double, Double) {
            let v = values.map(Double.init), m = v.reduce(0, +) / Double(v.count)
            return (m, v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1))
        }
        let (m1, v1) = stats(pixels[0..<16]), (m2, v2) = stats(pixels[16..<32])
        #expect(abs(Double(model.bn.runningMean.item) - (m1 + m2) / 2) < 1e-5)
        #expect(abs(Double(model.bn.runningVar.item) - (v1 + v2) / 2) < 1e-4)
        #expect(!model.isTraining && model.bn.momentumOverride == nil)
    }

    @Test func snapshotRestoresAndScopedStatisticsAreUndone() {
        let model = NormOnly()
        model.bn.runningMean.assign([1.5])
        model.bn.runningVar.assign([2.5])
        let images = InMemoryImages(pixels: (0..<16).map(Float.init), labels: [0, 0, 0, 0], imageShape: [1, 2, 2], classCount: 1)
        let inside = BatchNormStatistics.withStatistics(of: images, in: model, batchSize: 4) { model.bn.runningMean.item }
        #expect(abs(inside - 7.5) < 1e-5)
        #expect(model.bn.runningMean.item == 1.5 && model.bn.runningVar.item == 2.5)
    }
}
