import Core

/// One image being augmented: `channels x height x width` floats, row-major (CHW).
public struct ImageBuffer: Equatable, Sendable {
    public var pixels: [Float]
    public let channels: Int
    public let height: Int
    public let width: Int

    public init(pixels: [Float], channels: Int, height: Int, width: Int) {
        precondition(pixels.count == channels * height * width, "ImageBuffer: \(pixels.count) values for \(channels)x\(height)x\(width)")
        self.pixels = pixels
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Pixels per channel plane.
    public var planeSize: Int { height * width }

    /// The image as a tensor `[channels, height, width]`.
    public var tensor: Tensor { Tensor(shape: [channels, height, width], scalars: pixels) }
}

/// A random image transformation. Every random choice is drawn from `generator`, which the pipeline derives
/// per image from one seed, so each image gets its own parameters (the reference package drew sharpness and
/// solarize parameters once per run) and results are reproducible whatever the thread count.
public protocol ImageAugmentation: Sendable {
    /// Transforms `image` in place.
    func apply(to image: inout ImageBuffer, generator: inout SeededGenerator)
}

/// An ordered list of augmentations applied to every image of a batch, each image with its own generator.
public struct AugmentationPipeline: Sendable {
    public var steps: [any ImageAugmentation]

    public init(_ steps: [any ImageAugmentation]) { self.steps = steps }

    /// Augments one image.
    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        for step in steps { step.apply(to: &image, generator: &generator) }
    }

    /// Augments a batch `[N, C, H, W]` and returns a new tensor of the same shape. Image `i` uses
    /// `generator.derived(stream: i)`; `generator` then advances by one draw so the next batch differs.
    /// - Parameter parallel: spread images over the compute threads (off when called from a loader's
    ///   background thread, which already runs beside the training thread).
    public func apply(_ batch: Tensor, generator: inout SeededGenerator, parallel: Bool = true) -> Tensor {
        precondition(batch.rank == 4, "augmentations need [N, C, H, W], got \(batch.shape)")
        var scalars = batch.scalars
        apply(to: &scalars, shape: batch.shape, generator: &generator, parallel: parallel)
        return Tensor(shape: batch.shape, scalars: scalars)
    }

    /// `apply(images, generator: &generator)`: lets a pipeline stand wherever a batch transform
    /// `(Tensor, inout SeededGenerator) -> Tensor` is expected.
    public func callAsFunction(_ images: Tensor, generator: inout SeededGenerator) -> Tensor {
        apply(images, generator: &generator)
    }

    /// Augments a batch `[N, C, H, W]` stored in `scalars`, in place; see `apply(_:generator:parallel:)`.
    public func apply(to scalars: inout [Float], shape: [Int], generator: inout SeededGenerator, parallel: Bool = true) {
        precondition(shape.count == 4 && scalars.count == shape.reduce(1, *), "augmentations need [N, C, H, W], got \(shape)")
        let base = generator
        _ = generator.next()
        let n = shape[0], c = shape[1], h = shape[2], w = shape[3], size = c * h * w
        guard !steps.isEmpty, n > 0 else { return }
        scalars.withUnsafeMutableBufferPointer { buffer in
            let all = buffer
            func augment(_ i: Int) {
                var image = ImageBuffer(pixels: Array(all[(i * size)..<((i + 1) * size)]), channels: c, height: h, width: w)
                var g = base.derived(stream: UInt64(i))
                apply(to: &image, generator: &g)
                image.pixels.withUnsafeBufferPointer { src in
                    _ = UnsafeMutableBufferPointer(rebasing: all[(i * size)..<((i + 1) * size)]).update(fromContentsOf: src)
                }
            }
            if parallel { parallelFor(n) { augment($0) } } else { for i in 0..<n { augment(i) } }
        }
    }
}

/// Applies `base` with probability `probability` (torchvision's `RandomApply` / the `p` of `Random*` transforms).
public struct RandomlyApplied: ImageAugmentation {
    public let base: any ImageAugmentation
    public let probability: Double

    public init(_ base: any ImageAugmentation, probability: Double) {
        precondition((0...1).contains(probability), "probability \(probability) outside [0, 1]")
        self.base = base
        self.probability = probability
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        if generator.bernoulli(probability) { base.apply(to: &image, generator: &generator) }
    }
}
