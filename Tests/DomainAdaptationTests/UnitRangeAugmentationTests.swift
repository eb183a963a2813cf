import Core
import DomainAdaptation
import Foundation
import Lensing
import Testing
import TestSupport

@Suite struct UnitRangeAugmentationTests {
    /// Inversion inside the wrapper acts on the image's own range: `x -> low + high - x`, per image, for data far from
    /// [0, 1]. Two float32 affine maps of values of size ~10: 1e-5 relative.
    @Test func invertsWithinEachImagesRange() {
        let images = testTensor([2, 1, 4, 4], seed: 3, low: 5, high: 12, requiresGrad: false)
        var g = SeededGenerator(seed: 1)
        let out = AugmentationPipeline([UnitRangeAugmentation(AugmentationPipeline([Invert(probability: 1)]))])
            .apply(images, generator: &g).scalars
        for i in 0..<2 {
            let x = Array(images.scalars[(i * 16)..<((i + 1) * 16)])
            let low = x.min()!, high = x.max()!
            for j in 0..<16 { #expect(abs(out[i * 16 + j] - (low + high - x[j])) < 1e-5 * high) }
        }
    }

    /// The full strong AdaMatch view keeps every image inside its own original range (the photometric ops clamp to
    /// [0, 1] and the affine fill is 0, i.e. the image minimum), so strong views stay comparable to raw weak views.
    @Test func strongViewStaysInTheImagesRange() {
        let images = testTensor([6, 1, 16, 16], seed: 4, low: -3, high: 40, requiresGrad: false)
        var g = SeededGenerator(seed: 2)
        let out = TrainingAugmentations.adaMatchStrong(images, generator: &g).scalars
        #expect(out != images.scalars)
        for i in 0..<6 {
            let x = images.scalars[(i * 256)..<((i + 1) * 256)], y = out[(i * 256)..<((i + 1) * 256)]
            let slack = 1e-5 * (x.max()! - x.min()!)
            #expect(y.min()! >= x.min()! - slack && y.max()! <= x.max()! + slack)
        }
    }
}
