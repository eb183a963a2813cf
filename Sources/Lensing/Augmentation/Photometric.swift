import Core

/// Pixel-range convention of the photometric augmentations.
///
/// Like torchvision on float tensors, `AutoContrast`, `Invert`, `Solarize` and `AdjustSharpness` assume pixels
/// in `[0, bound]` with `bound = 1`: invert maps `x -> bound - x`, solarize compares with a threshold in that
/// range, and autocontrast and sharpness clamp to it. The reference package applied them to raw, un-normalised
/// simulator output, where these assumptions do not hold; here, normalise with `Normalization.perImageMinMax`
/// first (the AdaMatch presets document this), or pass the `bound` of your data.
public enum PixelRange {
    /// The default upper bound of float images, as in torchvision.
    public static let unitBound: Float = 1
}

/// Stretches each channel linearly so its minimum maps to 0 and its maximum to `bound`; constant channels are
/// left unchanged (torchvision `autocontrast`). Applied with probability `probability` (torchvision
/// `RandomAutocontrast`, p = 0.5).
public struct AutoContrast: ImageAugmentation {
    public let probability: Double
    public let bound: Float

    public init(probability: Double = 0.5, bound: Float = PixelRange.unitBound) {
        self.probability = probability
        self.bound = bound
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        AutoContrast.stretch(&image, bound: bound)
    }

    /// The deterministic transform.
    public static func stretch(_ image: inout ImageBuffer, bound: Float = PixelRange.unitBound) {
        let plane = image.planeSize
        image.pixels.withUnsafeMutableBufferPointer { p in
            for c in 0..<image.channels {
                let range = (c * plane)..<((c + 1) * plane)
                var low = Float.infinity, high = -Float.infinity
                for i in range { low = min(low, p[i]); high = max(high, p[i]) }
                if !(high > low) { low = 0; high = bound }
                let scale = bound / (high - low)
                for i in range { p[i] = min(max((p[i] - low) * scale, 0), bound) }
            }
        }
    }
}

/// `x -> bound - x` with probability `probability` (torchvision `RandomInvert`, p = 0.5).
public struct Invert: ImageAugmentation {
    public let probability: Double
    public let bound: Float

    public init(probability: Double = 0.5, bound: Float = PixelRange.unitBound) {
        self.probability = probability
        self.bound = bound
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        let b = bound
        image.pixels.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = b - p[i] } }
    }
}

/// Inverts the pixels at or above a threshold (`x >= t ? bound - x : x`), with probability `probability`
/// (torchvision `RandomSolarize`, p = 0.5). The threshold is drawn per image from `thresholds`; the reference
/// package drew it once per run.
public struct Solarize: ImageAugmentation {
    public let thresholds: ClosedRange<Float>
    public let probability: Double
    public let bound: Float

    public init(thresholds: ClosedRange<Float> = 0...1, probability: Double = 0.5, bound: Float = PixelRange.unitBound) {
        self.thresholds = thresholds
        self.probability = probability
        self.bound = bound
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        let t = generator.uniform(thresholds.lowerBound, thresholds.upperBound), b = bound
        image.pixels.withUnsafeMutableBufferPointer { p in for i in 0..<p.count where p[i] >= t { p[i] = b - p[i] } }
    }
}

/// Blends each image with a smoothed copy: `clamp(f x + (1 - f) smooth(x), 0, bound)` where `smooth` is the
/// 3x3 kernel `[[1,1,1],[1,5,1],[1,1,1]] / 13` on interior pixels and the identity on the border (PIL's
/// `ImageEnhance.Sharpness`, torchvision `adjust_sharpness`). `f < 1` blurs, `f > 1` sharpens. Applied with
/// probability `probability` (torchvision `RandomAdjustSharpness`, p = 0.5); `f` is drawn per image from
/// `factors` (the reference package drew it once per run).
public struct AdjustSharpness: ImageAugmentation {
    public let factors: ClosedRange<Float>
    public let probability: Double
    public let bound: Float

    public init(factors: ClosedRange<Float> = 0...1, probability: Double = 0.5, bound: Float = PixelRange.unitBound) {
        self.factors = factors
        self.probability = probability
        self.bound = bound
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        AdjustSharpness.blend(&image, factor: generator.uniform(factors.lowerBound, factors.upperBound), bound: bound)
    }

    /// The deterministic transform.
    public static func blend(_ image: inout ImageBuffer, factor: Float, bound: Float = PixelRange.unitBound) {
        let h = image.height, w = image.width, plane = image.planeSize
        guard h > 2, w > 2 else { return }
        let original = image.pixels
        original.withUnsafeBufferPointer { x in
            image.pixels.withUnsafeMutableBufferPointer { p in
                for c in 0..<image.channels {
                    for i in 1..<(h - 1) {
                        for j in 1..<(w - 1) {
                            let o = c * plane + i * w + j
                            var s: Float = 4 * x[o]
                            for di in -1...1 { for dj in -1...1 { s += x[o + di * w + dj] } }
                            let smooth = s / 13
                            p[o] = factor * x[o] + (1 - factor) * smooth
                        }
                    }
                }
                for i in 0..<p.count { p[i] = min(max(p[i], 0), bound) }
            }
        }
    }
}

/// Adds independent Gaussian noise of standard deviation drawn per image from `standardDeviations`.
public struct GaussianNoise: ImageAugmentation {
    public let standardDeviations: ClosedRange<Float>

    public init(standardDeviation: Float) { self.init(standardDeviations: standardDeviation...standardDeviation) }

    public init(standardDeviations: ClosedRange<Float>) {
        precondition(standardDeviations.lowerBound >= 0, "noise standard deviation must be non-negative")
        self.standardDeviations = standardDeviations
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        let sigma = generator.uniform(standardDeviations.lowerBound, standardDeviations.upperBound)
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] += sigma * Float(generator.nextNormal()) }
        }
    }
}
