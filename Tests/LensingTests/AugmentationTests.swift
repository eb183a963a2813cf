import Core
import Foundation
import Testing
import TestSupport
@testable import Lensing

@Suite struct AugmentationTests {
    /// A deterministic `channels x h x w` image with values in [0, 1).
    private func image(_ h: Int = 6, _ w: Int = 6, channels: Int = 1, seed: UInt64 = 1) -> ImageBuffer {
        let t = testTensor([channels, h, w], seed: seed, low: 0, high: 1, requiresGrad: false)
        return ImageBuffer(pixels: t.scalars, channels: channels, height: h, width: w)
    }

    /// A centred Gaussian blob whose border pixels are zero to float precision (like a lensing image).
    private func blob(_ n: Int = 24) -> ImageBuffer {
        let c = Double(n - 1) / 2
        let pixels = (0..<(n * n)).map { k -> Float in
            let x = Double(k % n) - c, y = Double(k / n) - c
            return Float(Foundation.exp(-(x * x + y * y) / (2 * 1.5 * 1.5)))
        }
        return ImageBuffer(pixels: pixels, channels: 1, height: n, width: n)
    }

    private func sum(_ image: ImageBuffer) -> Double { image.pixels.reduce(0.0) { $0 + Double($1) } }

    @Test func flipsTwiceAreIdentityAndMirror() {
        let x = image(5, 7, channels: 2)
        var y = x
        Flip.horizontal(&y)
        #expect(y != x)
        #expect(y.pixels[0] == x.pixels[6] && y.pixels[35 + 7] == x.pixels[35 + 13])
        Flip.horizontal(&y)
        #expect(y == x)
        Flip.vertical(&y)
        #expect(y.pixels[0] == x.pixels[28] && y.pixels[35] == x.pixels[35 + 28])
        Flip.vertical(&y)
        #expect(y == x)
    }

    @Test func quarterTurnsFourTimesAreIdentity() {
        let x = image(5, 5, channels: 2).tensor
        var y = x
        for _ in 0..<4 { y = ImageRotation.rot90(y, times: 1) }
        #expect(y.scalars == x.scalars)
        var g = SeededGenerator(seed: 5)
        let rotations = (0..<4).map { ImageRotation.rot90(x, times: $0).scalars }
        for _ in 0..<8 {
            var z = ImageBuffer(pixels: x.scalars, channels: 2, height: 5, width: 5)
            RandomRot90().apply(to: &z, generator: &g)
            #expect(rotations.contains(z.pixels))
        }
    }

    @Test func affineQuarterTurnWithNearestSamplingEqualsRot90() {
        let x = image(7, 7)
        var y = x
        RandomAffine.warp(&y, degrees: 90, translation: (0, 0), scale: 1, shear: (0, 0), interpolation: .nearest)
        #expect(y.pixels == ImageRotation.rot90(x.tensor, times: 1).scalars)
        var identity = x
        RandomAffine.warp(&identity, degrees: 0, translation: (0, 0), scale: 1, shear: (0, 0), interpolation: .bilinear)
        #expect(identity == x)
    }

    @Test func affineTranslationShiftsByWholePixels() {
        let x = image(6, 6)
        var y = x
        RandomAffine.warp(&y, degrees: 0, translation: (2, 1), scale: 1, shear: (0, 0))
        for i in 0..<6 {
            for j in 0..<6 {
                let expected: Float = i >= 1 && j >= 2 ? x.pixels[(i - 1) * 6 + j - 2] : 0
                #expect(y.pixels[i * 6 + j] == expected)
            }
        }
    }

    @Test func affineShearAndScaleMoveTheExpectedPixel() {
        // A single bright pixel one step right of the centre of a 9x9 image lands at x' = scale * x: two steps
        // right under scale 2; a shear along x leaves a point on the x axis in place.
        var dot = ImageBuffer(pixels: [Float](repeating: 0, count: 81), channels: 1, height: 9, width: 9)
        dot.pixels[4 * 9 + 5] = 1
        var scaled = dot
        RandomAffine.warp(&scaled, degrees: 0, translation: (0, 0), scale: 2, shear: (0, 0), interpolation: .nearest)
        #expect(scaled.pixels[4 * 9 + 6] == 1)
        var sheared = dot
        RandomAffine.warp(&sheared, degrees: 0, translation: (0, 0), scale: 1, shear: (30, 0), interpolation: .nearest)
        #expect(sheared == dot)
    }

    @Test func invertTwiceIsIdentityAndSolarizeExtremes() {
        let x = image()
        var y = x
        var g = SeededGenerator(seed: 1)
        Invert(probability: 1).apply(to: &y, generator: &g)
        #expect(zip(y.pixels, x.pixels).allSatisfy { $0 == 1 - $1 })
        Invert(probability: 1).apply(to: &y, generator: &g)
        // (1 - (1 - x)) rounds to x within one float32 ulp of 1.
        #expect(zip(y.pixels, x.pixels).allSatisfy { abs($0 - $1) <= Float.ulpOfOne })
        var all = x
        Solarize(thresholds: 0...0, probability: 1).apply(to: &all, generator: &g)
        #expect(zip(all.pixels, x.pixels).allSatisfy { $0 == 1 - $1 })
        var none = x
        Solarize(thresholds: 1.5...1.5, probability: 1).apply(to: &none, generator: &g)
        #expect(none == x)
    }

    @Test func autocontrastSpansTheUnitRangePerChannel() {
        var x = image(6, 6, channels: 2)
        for i in 0..<36 { x.pixels[i] = 0.3 + 0.2 * x.pixels[i] }
        AutoContrast.stretch(&x)
        for c in 0..<2 {
            let plane = x.pixels[(c * 36)..<((c + 1) * 36)]
            #expect(plane.min() == 0 && abs(plane.max()! - 1) < 1e-6)
        }
        var constant = ImageBuffer(pixels: [Float](repeating: 0.4, count: 9), channels: 1, height: 3, width: 3)
        AutoContrast.stretch(&constant)
        #expect(constant.pixels.allSatisfy { $0 == 0.4 })
    }

    @Test func gaussianKernelMatchesTorchvision() {
        // torchvision.transforms.functional._get_gaussian_kernel1d(5, 1.0)
        // -> tensor([0.0545, 0.2442, 0.4026, 0.2442, 0.0545])
        let k = GaussianBlur.kernel(size: 5, sigma: 1)
        let expected: [Float] = [0.054488685, 0.24420134, 0.40261995, 0.24420134, 0.054488685]
        #expect(relativeError(k, expected) < 1e-6)
        #expect(GaussianBlur.paddedIndices(extent: 4, radius: 2, boundary: .reflect) == [2, 1, 0, 1, 2, 3, 2, 1])
        #expect(GaussianBlur.paddedIndices(extent: 4, radius: 2, boundary: .circular) == [2, 3, 0, 1, 2, 3, 0, 1])
    }

    @Test func blurPreservesMean() {
        // Periodic padding: every pixel's weight is spread over the image, so the sum is exact up to float
        // round-off (~1e-7 relative per addition over ~10 terms).
        var periodic = image(8, 10, seed: 3)
        let before = sum(periodic)
        GaussianBlur.blur(&periodic, kernelWidth: 5, kernelHeight: 9, sigma: 0.8, boundary: .circular)
        #expect(abs(sum(periodic) - before) < 1e-5 * before)
        // Reflect padding (torchvision's) preserves the sum when the border is dark, as in lensing images.
        var lens = blob()
        let lensBefore = sum(lens)
        GaussianBlur.blur(&lens, kernelWidth: 5, kernelHeight: 9, sigma: 1, boundary: .reflect)
        #expect(abs(sum(lens) - lensBefore) < 1e-5 * lensBefore)
        #expect(lens.pixels.max()! < blob().pixels.max()!, "blurring lowers the peak")
    }

    @Test func sharpnessBlendsWithTheSmoothedImage() {
        let x = image(5, 5)
        var same = x
        AdjustSharpness.blend(&same, factor: 1)
        #expect(same == x)
        var smooth = x
        AdjustSharpness.blend(&smooth, factor: 0)
        for i in 0..<5 {
            for j in 0..<5 {
                let o = i * 5 + j
                if i == 0 || j == 0 || i == 4 || j == 4 {
                    #expect(smooth.pixels[o] == x.pixels[o], "border unchanged")
                } else {
                    var s = 4 * x.pixels[o]
                    for di in -1...1 { for dj in -1...1 { s += x.pixels[o + di * 5 + dj] } }
                    #expect(abs(smooth.pixels[o] - s / 13) < 1e-6)
                }
            }
        }
        var sharp = x
        AdjustSharpness.blend(&sharp, factor: 3)
        #expect(sharp.pixels.allSatisfy { $0 >= 0 && $0 <= 1 }, "clamped to the pixel range")
    }

    @Test func gaussianNoiseHasTheRequestedSpread() {
        var x = ImageBuffer(pixels: [Float](repeating: 2, count: 4096), channels: 1, height: 64, width: 64)
        var g = SeededGenerator(seed: 9)
        GaussianNoise(standardDeviation: 0.5).apply(to: &x, generator: &g)
        let mean = x.pixels.reduce(0.0) { $0 + Double($1) } / 4096
        let sd = (x.pixels.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 4096).squareRoot()
        // Standard errors with 4096 samples: mean 0.5/64 = 0.008, sd 0.5/sqrt(8192) = 0.0055; allow ~5 of each.
        #expect(abs(mean - 2) < 0.04 && abs(sd - 0.5) < 0.03)
    }

    @Test func randomErasingClearsOneRectangleOfTheRequestedArea() {
        var g = SeededGenerator(seed: 4)
        for _ in 0..<20 {
            var x = ImageBuffer(pixels: [Float](repeating: 1, count: 400), channels: 1, height: 20, width: 20)
            RandomErasing(probability: 1).apply(to: &x, generator: &g)
            let erased = x.pixels.indices.filter { x.pixels[$0] == 0 }
            guard let first = erased.first, let last = erased.last else { continue }
            let rows = (first / 20)...(last / 20), cols = erased.map { $0 % 20 }
            let width = cols.max()! - cols.min()! + 1
            #expect(erased.count == rows.count * width, "a filled rectangle")
            // Rounded sides: area within the drawn fraction range, widened by one pixel of rounding per side.
            #expect(erased.count >= 2 && erased.count <= 160)
        }
    }

    @Test func perImageRandomnessDiffersAcrossImagesButReproducesWithTheSeed() {
        let one = image(8, 8, seed: 2).pixels
        let batch = Tensor(shape: [6, 1, 8, 8], scalars: Array([[Float]](repeating: one, count: 6).joined()))
        let pipeline = AugmentationPipeline([
            RandomRotation(degrees: -180...180, method: .bilinear), GaussianNoise(standardDeviations: 0.01...0.1),
            RandomErasing(probability: 0.5),
        ])
        var g1 = SeededGenerator(seed: 42), g2 = SeededGenerator(seed: 42), g3 = SeededGenerator(seed: 43)
        let a = pipeline.apply(batch, generator: &g1, parallel: true)
        let b = pipeline.apply(batch, generator: &g2, parallel: false)
        let c = pipeline.apply(batch, generator: &g3)
        #expect(a.scalars == b.scalars, "same seed, with or without threads")
        #expect(a.scalars != c.scalars, "another seed")
        let images = (0..<6).map { Array(a.scalars[($0 * 64)..<(($0 + 1) * 64)]) }
        #expect(Set(images.map { $0.map(\.bitPattern) }).count == 6, "every image got its own parameters")
        #expect(g1 == g2 && g1 != SeededGenerator(seed: 42), "the generator advances")
        let next = pipeline.apply(batch, generator: &g1)
        #expect(next.scalars != a.scalars, "the next batch differs")
    }

    @Test func bandLimitedRotationAugmentationKeepsShape() {
        var x = blob(16)
        var g = SeededGenerator(seed: 8)
        RandomRotation(degrees: 10...80, method: .bandLimited).apply(to: &x, generator: &g)
        #expect(x.pixels.count == 256 && x.pixels.allSatisfy(\.isFinite))
        // A centred round blob is rotation invariant; its total flux moves only by interpolation error.
        #expect(abs(sum(x) - sum(blob(16))) < 1e-3 * sum(blob(16)))
    }

    @Test func presetsMatchTheReferenceAndKeepImagesFinite() throws {
        #expect(AugmentationPresets.adaMatchStrong.steps.count == 8)
        #expect(AugmentationPresets.selfEnsembleSource.steps.count == 3)
        #expect(AugmentationPresets.flips.steps.count == 2)
        let batch = Tensor(shape: [4, 1, 12, 12], scalars: (0..<4).flatMap { image(12, 12, seed: UInt64($0 + 1)).pixels })
        var g = SeededGenerator(seed: 1)
        let strong = AugmentationPresets.adaMatchStrong.apply(batch, generator: &g)
        #expect(strong.shape == batch.shape)
        #expect(strong.scalars.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        let weak = AugmentationPresets.flips.apply(batch, generator: &g)
        #expect(weak.scalars.sorted() == batch.scalars.sorted(), "flips only permute pixels")
    }
}
