import Core

/// A finite set of labelled single-channel images that the trainer reads in batches.
///
/// Images are `[1, H, W]` float32 each (no normalisation is applied, as in the DeepLense reference); labels are
/// class indices in `0..<classCount`. Target-domain sources carry labels too (they are needed for evaluation),
/// but unsupervised methods never read them during training: the trainer hands methods only the images.
public protocol LabeledImages {
    /// Number of images.
    var count: Int { get }
    /// `[channels, height, width]` of one image (channels is 1 for lensing data).
    var imageShape: [Int] { get }
    /// Number of classes (3 for DeepLense: no substructure, spherical, vortex).
    var classCount: Int { get }
    /// The images at `indices` stacked as `[indices.count, C, H, W]` and their labels, in the same order.
    func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int])
    /// Every label, in index order, without reading any image.
    var allLabels: [Int] { get }
}

/// Images held in memory as one contiguous `[N, C, H, W]` array.
public struct InMemoryImages: LabeledImages {
    public let imageShape: [Int]
    public let classCount: Int
    /// Row-major `[N, C, H, W]` pixel values.
    public let pixels: [Float]
    /// `N` labels in `0..<classCount`.
    public let labels: [Int]

    /// - Parameters:
    ///   - pixels: `[N, C, H, W]` row-major values, `N = labels.count`.
    ///   - imageShape: `[C, H, W]`.
    public init(pixels: [Float], labels: [Int], imageShape: [Int], classCount: Int) {
        precondition(imageShape.count == 3, "imageShape must be [C, H, W], got \(imageShape)")
        precondition(pixels.count == labels.count * imageShape.reduce(1, *),
                     "\(pixels.count) pixels do not make \(labels.count) images of shape \(imageShape)")
        precondition(labels.allSatisfy { (0..<classCount).contains($0) }, "labels must lie in 0..<\(classCount)")
        self.pixels = pixels
        self.labels = labels
        self.imageShape = imageShape
        self.classCount = classCount
    }

    /// Copies every image of another source into memory.
    public init(copying source: LabeledImages) {
        let all = source.batch(Array(0..<source.count))
        self.init(pixels: all.images.scalars, labels: all.labels, imageShape: source.imageShape,
                  classCount: source.classCount)
    }

    public var count: Int { labels.count }
    public var allLabels: [Int] { labels }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        let size = imageShape.reduce(1, *)
        var out = [Float](repeating: 0, count: indices.count * size)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < labels.count, "image index \(index) out of range 0..<\(labels.count)")
                    let from = src.baseAddress! + index * size
                    (dst.baseAddress! + row * size).update(from: from, count: size)
                }
            }
        }
        return (Tensor(shape: [indices.count] + imageShape, scalars: out), indices.map { labels[$0] })
    }
}

/// A view of some images of another source, in the order of `indices`.
public struct ImageSubset: LabeledImages {
    public let base: LabeledImages
    public let indices: [Int]

    public init(_ base: LabeledImages, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count }, "subset index out of range 0..<\(base.count)")
        self.base = base
        self.indices = indices
    }

    public var count: Int { indices.count }
    public var imageShape: [Int] { base.imageShape }
    public var classCount: Int { base.classCount }
    public func batch(_ positions: [Int]) -> (images: Tensor, labels: [Int]) { base.batch(positions.map { indices[$0] }) }
    public var allLabels: [Int] { let all = base.allLabels; return indices.map { all[$0] } }
}

/// A stratified split of a labelled set into training and held-out validation parts.
///
/// Model selection (best checkpoint, early stopping) uses the held-out part of the labelled **source** training
/// data, never the target test set. Each class contributes `round(fraction * classSize)` images (at least one when
/// the class has two or more), drawn by a permutation from `seed`, so the split is reproducible.
public func stratifiedSplit(_ source: LabeledImages, validationFraction: Double, seed: UInt64)
    -> (training: ImageSubset, validation: ImageSubset)
{
    precondition(validationFraction >= 0 && validationFraction < 1, "validation fraction must lie in [0, 1)")
    var generator = SeededGenerator(seed: seed)
    let labels = source.allLabels
    var training: [Int] = [], validation: [Int] = []
    for c in 0..<source.classCount {
        let members = labels.indices.filter { labels[$0] == c }
        let order = generator.permutation(members.count).map { members[$0] }
        var held = Int((validationFraction * Double(members.count)).rounded())
        if validationFraction > 0, members.count >= 2 { held = max(held, 1) }
        validation += order.prefix(held)
        training += order.dropFirst(held)
    }
    return (ImageSubset(source, indices: training.sorted()), ImageSubset(source, indices: validation.sorted()))
}
