import Core
import Foundation

/// A random transformation of a batch of images `[N, C, H, W] -> [N, C, H, W]`, drawing every random choice
/// per image from `generator` (so results depend only on the seed).
///
/// The methods call augmentations only through `AugmentationPresets`, so switching to the Lensing module's presets
/// is a change in one place.
public protocol BatchAugmentation {
    func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor
}

/// Applies each augmentation in order.
public struct AugmentationChain: BatchAugmentation {
    public let steps: [BatchAugmentation]
    public init(_ steps: [BatchAugmentation]) { self.steps = steps }
    public func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor {
        steps.reduce(images) { x, step in step(x, generator: &generator) }
    }
}

/// Horizontal and vertical flips, each with probability `probability` per image (torchvision
/// `RandomHorizontalFlip` + `RandomVerticalFlip`, as in the DeepLense reference).
public struct RandomFlips: BatchAugmentation {
    public let probability: Double
    public init(probability: Double = 0.5) { self.probability = probability }

    public func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor {
        let (n, c, h, w) = imageDimensions(images)
        var out = images.scalars
        let plane = h * w
        for i in 0..<n {
            let flipX = generator.bernoulli(probability), flipY = generator.bernoulli(probability)
            if !flipX && !flipY { continue }
            images.scalars.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for ch in 0..<c {
                        let base = (i * c + ch) * plane
                        for y in 0..<h {
                            let sy = flipY ? h - 1 - y : y
                            for x in 0..<w {
                                dst[base + y * w + x] = src[base + sy * w + (flipX ? w - 1 - x : x)]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: images.shape, scalars: out)
    }
}

/// Gaussian blur with an odd kernel size drawn from `kernelSizes` and sigma uniform in `sigmaRange`, per image
/// (torchvision `GaussianBlur(kernel_size=(5, 9), sigma=(0.1, 1))` as Self-Ensemble uses on source images).
/// Borders are reflected, as torchvision does.
public struct RandomGaussianBlur: BatchAugmentation {
    public let kernelSizes: ClosedRange<Int>
    public let sigmaRange: ClosedRange<Float>
    public init(kernelSizes: ClosedRange<Int> = 5...9, sigmaRange: ClosedRange<Float> = 0.1...1) {
        self.kernelSizes = kernelSizes
        self.sigmaRange = sigmaRange
    }

    public func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor {
        let (n, c, h, w) = imageDimensions(images)
        var out = images.scalars
        let odd = stride(from: kernelSizes.lowerBound | 1, through: kernelSizes.upperBound, by: 2).map { $0 }
        for i in 0..<n {
            let k = odd[generator.nextInt(below: odd.count)]
            let sigma = generator.uniform(sigmaRange.lowerBound, sigmaRange.upperBound)
            let kernel = gaussianKernel(size: k, sigma: sigma)
            for ch in 0..<c {
                let base = (i * c + ch) * h * w
                blurPlane(&out, base: base, height: h, width: w, kernel: kernel)
            }
        }
        return Tensor(shape: images.shape, scalars: out)
    }
}

/// Intensity augmentations for the strong AdaMatch view that respect the data's own range, because DeepLense
/// images are not normalised to [0, 1] (a bug of the reference, DESIGN.md section 6): per image with
/// probability `probability` each, drawn per image: autocontrast (stretch to [0, 1]), inversion within the image's
/// range, solarisation above a random quantile of the range, and sharpening by unsharp masking.
public struct RandomIntensity: BatchAugmentation {
    public let probability: Double
    public init(probability: Double = 0.5) { self.probability = probability }

    public func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor {
        let (n, c, h, w) = imageDimensions(images)
        var out = images.scalars
        let size = c * h * w
        for i in 0..<n {
            let range = (i * size)..<((i + 1) * size)
            var lo = out[range].min() ?? 0, hi = out[range].max() ?? 0
            if generator.bernoulli(probability), hi > lo {
                for j in range { out[j] = (out[j] - lo) / (hi - lo) }
                lo = 0; hi = 1
            }
            if generator.bernoulli(probability) {
                for j in range { out[j] = hi + lo - out[j] }
            }
            if generator.bernoulli(probability) {
                let threshold = lo + generator.uniform(Float(0.5), Float(1)) * (hi - lo)
                for j in range where out[j] >= threshold { out[j] = hi + lo - out[j] }
            }
            if generator.bernoulli(probability) {
                let amount = generator.uniform(Float(0.1), Float(1))
                var blurred = Array(out[range])
                let kernel = gaussianKernel(size: 3, sigma: 1)
                for ch in 0..<c { blurPlane(&blurred, base: ch * h * w, height: h, width: w, kernel: kernel) }
                for (k, j) in range.enumerated() { out[j] += amount * (out[j] - blurred[k]) }
            }
        }
        return Tensor(shape: images.shape, scalars: out)
    }
}

/// Where the methods get their augmentations. Defaults follow the DeepLense reference (DESIGN.md section 4).
public enum AugmentationPresets {
    /// Flips only: every method's basic (and AdaMatch's weak) augmentation.
    public static var weak: BatchAugmentation { RandomFlips() }
    /// Flips plus a random Gaussian blur: Self-Ensemble's source augmentation.
    public static var sourceBlur: BatchAugmentation { AugmentationChain([RandomFlips(), RandomGaussianBlur()]) }
    /// AdaMatch's strong augmentation: flips, intensity operations and blur. Exact-rotation affine jitter is
    /// left to the Lensing presets.
    public static var strong: BatchAugmentation {
        AugmentationChain([RandomFlips(), RandomIntensity(), RandomGaussianBlur(kernelSizes: 3...5, sigmaRange: 0.1...1)])
    }
}

func imageDimensions(_ images: Tensor) -> (Int, Int, Int, Int) {
    precondition(images.rank == 4, "augmentations expect [N, C, H, W] images, got \(images.shape)")
    return (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
}

func gaussianKernel(size: Int, sigma: Float) -> [Float] {
    let half = Float(size - 1) / 2
    var k = (0..<size).map { i -> Float in let x = Float(i) - half; return exp(-x * x / (2 * sigma * sigma)) }
    let total = k.reduce(0, +)
    for i in k.indices { k[i] /= total }
    return k
}

/// Separable blur of one `h x w` plane starting at `base`, with reflected borders.
func blurPlane(_ data: inout [Float], base: Int, height h: Int, width w: Int, kernel: [Float]) {
    let half = kernel.count / 2
    func reflect(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        var j = i
        while j < 0 || j >= n { j = j < 0 ? -j : 2 * (n - 1) - j }
        return j
    }
    var tmp = [Float](repeating: 0, count: h * w)
    data.withUnsafeMutableBufferPointer { d in
        tmp.withUnsafeMutableBufferPointer { t in
            for y in 0..<h {
                for x in 0..<w {
                    var s: Float = 0
                    for (k, v) in kernel.enumerated() { s += v * d[base + y * w + reflect(x + k - half, w)] }
                    t[y * w + x] = s
                }
            }
            for y in 0..<h {
                for x in 0..<w {
                    var s: Float = 0
                    for (k, v) in kernel.enumerated() { s += v * t[reflect(y + k - half, h) * w + x] }
                    d[base + y * w + x] = s
                }
            }
        }
    }
}
