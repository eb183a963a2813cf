import Core

/// Named augmentation pipelines matching the reference package (`deeplense_domain_adaptation` 1.0.0,
/// `data/augmentations.py`, read for DESIGN.md section 4), with two corrections:
/// - sharpness factor and solarize threshold are drawn per image from `0...1`; the reference called
///   `random.uniform(0, 1)` once when building the pipeline, fixing them for a whole run;
/// - every random choice comes from the pipeline's seeded generator, one stream per image.
///
/// Which method uses which pipeline is decided in DomainAdaptation (`TrainingAugmentations`). The reference's
/// `Resize(150)` is omitted (images already have their size; evaluation uses no augmentation).
///
/// Pixel range: the strong AdaMatch pipeline's autocontrast, invert, sharpness and solarize assume pixels in
/// `[0, 1]` (torchvision's float convention). The reference fed raw simulator output; use a loader with
/// `Normalization.perImageMinMax` together with `adaMatchStrong`.
public enum AugmentationPresets {
    /// Horizontal and vertical flips, each with p = 0.5: supervised / source-only, ADDA, CGDM, the Self-Ensemble
    /// target and AdaMatch's weak augmentation.
    public static var flips: AugmentationPipeline {
        AugmentationPipeline([RandomHorizontalFlip(), RandomVerticalFlip()])
    }

    /// Flips plus Gaussian blur with kernel width 5, height 9, sigma uniform in [0.1, 1] (always applied):
    /// the Self-Ensemble source pipeline.
    public static var selfEnsembleSource: AugmentationPipeline {
        AugmentationPipeline([RandomHorizontalFlip(), RandomVerticalFlip(), GaussianBlur(kernelWidth: 5, kernelHeight: 9, sigmas: 0.1...1)])
    }

    /// AdaMatch's strong pipeline: flips; autocontrast (p 0.5); blur (5x9, sigma 0.1-1); invert (p 0.5);
    /// sharpness with factor uniform in [0, 1] per image (p 0.5); solarize with threshold uniform in [0, 1] per
    /// image (p 0.5); affine with rotation +-45 degrees, translation up to 30% of each side, scale 0.8-1.2, shear
    /// +-0.3 degrees on each axis, nearest-neighbour sampling and zero fill (torchvision defaults). Assumes [0, 1]
    /// pixels.
    public static var adaMatchStrong: AugmentationPipeline {
        AugmentationPipeline([
            RandomHorizontalFlip(), RandomVerticalFlip(),
            AutoContrast(probability: 0.5),
            GaussianBlur(kernelWidth: 5, kernelHeight: 9, sigmas: 0.1...1),
            Invert(probability: 0.5),
            AdjustSharpness(factors: 0...1, probability: 0.5),
            Solarize(thresholds: 0...1, probability: 0.5),
            RandomAffine(degrees: -45...45, translate: (0.3, 0.3), scales: 0.8...1.2,
                         shearX: -0.3...0.3, shearY: -0.3...0.3, interpolation: .nearest),
        ])
    }

    /// Exact symmetries of lensing images: flips and quarter turns (the dihedral group D4). Not in the
    /// reference package; useful for rotation-equivariant backbones and test-time augmentation.
    public static var dihedral: AugmentationPipeline {
        AugmentationPipeline([RandomHorizontalFlip(), RandomRot90()])
    }
}
