import Core
import Lensing

/// Runs an augmentation pipeline on each image rescaled to `[0, 1]` by its own minimum and maximum, then maps the
/// result back with the inverse of that affine map.
///
/// Why: the photometric steps of AdaMatch's strong pipeline (autocontrast, invert, sharpness, solarize; see
/// `Lensing.PixelRange`) assume pixels in `[0, 1]`, but DeepLense images are raw simulator intensities, never
/// normalised (the reference package applied the ops to them anyway, DESIGN.md section 6). Rescaling per image makes
/// every op act as designed relative to the image's own range (invert maps the brightest pixel to the darkest,
/// solarize thresholds a fraction of the range), and mapping back keeps the strong view in the same intensity range
/// as the weak view and the evaluation images, which are not rescaled. The affine step's zero fill becomes the image's
/// minimum (its background). A constant image is only shifted to 0 and back.
public struct UnitRangeAugmentation: ImageAugmentation {
    public let pipeline: AugmentationPipeline

    public init(_ pipeline: AugmentationPipeline) { self.pipeline = pipeline }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        let (low, high) = image.pixels.withUnsafeBufferPointer { p -> (Float, Float) in
            var lo = Float.infinity, hi = -Float.infinity
            for v in p { lo = min(lo, v); hi = max(hi, v) }
            return (lo, hi)
        }
        let range = high > low ? high - low : 1
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = (p[i] - low) / range }
        }
        pipeline.apply(to: &image, generator: &generator)
        image.pixels.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = p[i] * range + low }
        }
    }
}

/// The training augmentations the methods use: the reference pipelines of `Lensing.AugmentationPresets`
/// (DESIGN.md section 4), with AdaMatch's strong pipeline wrapped in `UnitRangeAugmentation`.
public enum TrainingAugmentations {
    /// Horizontal and vertical flips: SourceOnly, ADDA, CGDM, the Self-Ensemble target views and AdaMatch's weak view.
    public static var flips: AugmentationPipeline { AugmentationPresets.flips }
    /// Flips and a 5x9 Gaussian blur with sigma in [0.1, 1]: Self-Ensemble's source view.
    public static var selfEnsembleSource: AugmentationPipeline { AugmentationPresets.selfEnsembleSource }
    /// AdaMatch's strong view: the reference's flips, autocontrast, blur, invert, sharpness, solarize and affine
    /// (rotation +-45 degrees, translation 30 %, scale 0.8-1.2), each image rescaled to [0, 1] and back.
    public static var adaMatchStrong: AugmentationPipeline {
        AugmentationPipeline([UnitRangeAugmentation(AugmentationPresets.adaMatchStrong)])
    }
}
