import Core
import Dispatch

/// One mini-batch.
public struct LabeledBatch: @unchecked Sendable {
    /// Images `[B, 1, H, W]`, normalised and augmented as the loader was configured.
    public let images: Tensor
    /// Class index of each image.
    public let labels: [Int]
    /// Positions of the images in the data set.
    public let indices: [Int]
}

/// The order in which a loader visits a data set within an epoch.
public enum BatchOrder: Sendable, Equatable {
    /// `0, 1, 2, ...` (evaluation).
    case sequential
    /// A fresh seeded permutation every epoch.
    case shuffled
    /// Shuffled within each class, then interleaved class by class (in a shuffled class order per round), so
    /// every batch holds nearly equal numbers of each class; each image is still visited once per epoch.
    case classBalanced
}

/// Batches of a `DeepLenseDataset`, reproducible from a seed, with the next batch prepared on a background
/// thread while the caller trains on the current one.
///
/// Everything random is a pure function of `(seed, epoch, batch index)`: the epoch's order comes from
/// `SeededGenerator(seed: seed).derived(stream: epoch)`, and batch `k`'s augmentation generator from that
/// epoch generator's stream `k + 1`. So batches are identical with or without prefetching and whatever the
/// thread count, and a resumed run can restart at any epoch.
public final class BatchLoader: @unchecked Sendable {
    public let dataset: DeepLenseDataset
    public let batchSize: Int
    public let order: BatchOrder
    public let seed: UInt64
    /// Drop the last batch of an epoch when it is smaller than `batchSize`.
    public let dropLast: Bool
    public let normalization: Normalization
    public let augmentation: AugmentationPipeline?
    /// Prepare batch `k + 1` in the background while batch `k` is used.
    public let prefetch: Bool

    public init(dataset: DeepLenseDataset, batchSize: Int, order: BatchOrder = .shuffled, seed: UInt64 = 0,
                dropLast: Bool = false, normalization: Normalization = .none,
                augmentation: AugmentationPipeline? = nil, prefetch: Bool = true) {
        precondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.order = order
        self.seed = seed
        self.dropLast = dropLast
        self.normalization = normalization
        self.augmentation = augmentation
        self.prefetch = prefetch
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    private func epochGenerator(_ epoch: Int) -> SeededGenerator {
        SeededGenerator(seed: seed).derived(stream: UInt64(truncatingIfNeeded: epoch))
    }

    /// The visiting order of `epoch`: a permutation of `0..<dataset.count`.
    public func visitingOrder(epoch: Int) -> [Int] {
        var g = epochGenerator(epoch).derived(stream: 0)
        switch order {
        case .sequential:
            return Array(0..<dataset.count)
        case .shuffled:
            return g.permutation(dataset.count)
        case .classBalanced:
            var byClass = [[Int]](repeating: [], count: dataset.classCount)
            for (i, label) in dataset.labels.enumerated() { byClass[label].append(i) }
            byClass = byClass.map { members in g.permutation(members.count).map { members[$0] } }
            var result: [Int] = []
            result.reserveCapacity(dataset.count)
            for round in 0..<(byClass.map(\.count).max() ?? 0) {
                for c in g.permutation(byClass.count) where round < byClass[c].count { result.append(byClass[c][round]) }
            }
            return result
        }
    }

    /// Batch `index` of `epoch`, computed on the calling thread.
    public func batch(epoch: Int, index: Int) -> LabeledBatch {
        batch(epoch: epoch, index: index, indices: visitingOrder(epoch: epoch))
    }

    func batch(epoch: Int, index: Int, indices all: [Int]) -> LabeledBatch {
        precondition(index >= 0 && index < batchCount, "batch \(index) out of range 0..<\(batchCount)")
        let indices = Array(all[(index * batchSize)..<Swift.min(all.count, (index + 1) * batchSize)])
        let shape = [indices.count, 1, dataset.height, dataset.width]
        var scalars = dataset.images.floats(items: indices)
        scalars.withUnsafeMutableBufferPointer { normalization.apply(to: $0, pixelsPerImage: dataset.height * dataset.width) }
        if let augmentation {
            var g = epochGenerator(epoch).derived(stream: UInt64(index) + 1)
            augmentation.apply(to: &scalars, shape: shape, generator: &g, parallel: !prefetch)
        }
        return LabeledBatch(images: Tensor(shape: shape, scalars: scalars), labels: indices.map { dataset.labels[$0] }, indices: indices)
    }

    /// The batches of `epoch` in order.
    public func epoch(_ epoch: Int) -> EpochBatches { EpochBatches(loader: self, epoch: epoch) }

    /// An endless stream of batches, epoch after epoch from `epoch`, for a domain whose loader must outlast the
    /// other's (the reference CGDM stopped after one pass over its target iterator).
    public func stream(startingAt epoch: Int = 0) -> BatchStream { BatchStream(loader: self, epoch: epoch) }
}

/// Batches of consecutive epochs without end; `epoch` tells which epoch the next batch comes from.
public final class BatchStream: Sequence, IteratorProtocol {
    public let loader: BatchLoader
    /// The epoch of the batch `next()` returns.
    public private(set) var epoch: Int
    private var batches: EpochBatches

    init(loader: BatchLoader, epoch: Int) {
        precondition(loader.batchCount > 0, "an endless stream needs at least one batch per epoch")
        self.loader = loader
        self.epoch = epoch
        batches = loader.epoch(epoch)
    }

    /// The next batch; never nil.
    public func next() -> LabeledBatch? {
        if let batch = batches.next() { return batch }
        epoch += 1
        batches = loader.epoch(epoch)
        return batches.next()
    }
}

/// Iterates the batches of one epoch; with prefetching, batch `k + 1` is being read, normalised and augmented
/// on a background queue while the caller works on batch `k`.
public final class EpochBatches: Sequence, IteratorProtocol {
    public let loader: BatchLoader
    public let epoch: Int
    private let indices: [Int]
    private var nextIndex = 0
    private var pending: PendingBatch?
    private let queue = DispatchQueue(label: "lensing.batch-prefetch", qos: .userInitiated)

    init(loader: BatchLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        indices = loader.visitingOrder(epoch: epoch)
    }

    public func next() -> LabeledBatch? {
        guard nextIndex < loader.batchCount else { return nil }
        let current: LabeledBatch
        if let pending {
            current = pending.wait()
        } else {
            current = loader.batch(epoch: epoch, index: nextIndex, indices: indices)
        }
        nextIndex += 1
        pending = nil
        if loader.prefetch, nextIndex < loader.batchCount { pending = schedule(nextIndex) }
        return current
    }

    private func schedule(_ index: Int) -> PendingBatch {
        let box = PendingBatch()
        let loader = self.loader, epoch = self.epoch, indices = self.indices
        queue.async { box.fulfil(loader.batch(epoch: epoch, index: index, indices: indices)) }
        return box
    }
}

/// A batch being prepared on another thread; `wait()` blocks until it is ready.
private final class PendingBatch: @unchecked Sendable {
    private var batch: LabeledBatch?
    private let ready = DispatchSemaphore(value: 0)

    func fulfil(_ value: LabeledBatch) {
        batch = value
        ready.signal()
    }

    func wait() -> LabeledBatch {
        ready.wait()
        return batch!
    }
}
