import Core

/// Batch-norm running statistics as a domain's own normalisation: re-estimation on a data set (AdaBN, Li, Wang, Shi,
/// Liu, Hou, "Revisiting batch normalization for practical domain adaptation", ICLR workshop 2017 / Pattern
/// Recognition 2018), snapshots and restores. Works on every `BatchNormalizing` layer of a module tree, equivariant
/// batch norm included.
public enum BatchNormStatistics {
    /// The running mean and variance of every batch norm of `module`, in tree order.
    public typealias Snapshot = [(mean: [Float], variance: [Float])]

    /// Replaces every batch norm's running mean and variance in `module` by statistics of `images`: the cumulative
    /// average over consecutive batches of `batchSize` images (PyTorch's `momentum=None`) of each batch's mean and
    /// unbiased variance, computed with the current weights and no gradient. Weights and modes are unchanged; the
    /// batch-count buffers advance. A last batch of one image is skipped (its variance is undefined).
    public static func reestimate(_ module: Layer, on images: LabeledImages, batchSize: Int) {
        precondition(batchSize > 1, "re-estimating batch-norm statistics needs batches of at least 2 images, got \(batchSize)")
        let norms = module.allModules().compactMap { $0 as? BatchNormalizing }
        guard !norms.isEmpty, images.count > 1 else { return }
        for norm in norms {
            norm.runningStatistics.mean.assign([Float](repeating: 0, count: norm.runningStatistics.mean.count))
            norm.runningStatistics.variance.assign([Float](repeating: 1, count: norm.runningStatistics.variance.count))
        }
        defer { for norm in norms { norm.momentumOverride = nil } }
        var start = 0, batches = 0
        while start < images.count {
            let end = min(start + batchSize, images.count)
            defer { start = end }
            guard end - start > 1 else { continue }
            batches += 1
            for norm in norms { norm.momentumOverride = 1 / Float(batches) }
            let batch = images.batch(Array(start..<end)).images
            _ = module.withBatchNormMode(.training) { withoutGradient { module(batch) } }
        }
    }

    /// Copies of every running mean and variance of `module`.
    public static func snapshot(_ module: Module) -> Snapshot {
        module.allModules().compactMap { $0 as? BatchNormalizing }.map {
            ($0.runningStatistics.mean.scalars, $0.runningStatistics.variance.scalars)
        }
    }

    /// Writes a `snapshot(_:)` of the same module tree back.
    public static func restore(_ snapshot: Snapshot, into module: Module) {
        let norms = module.allModules().compactMap { $0 as? BatchNormalizing }
        precondition(norms.count == snapshot.count, "batch-norm snapshot of \(snapshot.count) layers for \(norms.count)")
        for (norm, saved) in zip(norms, snapshot) {
            norm.runningStatistics.mean.assign(saved.mean)
            norm.runningStatistics.variance.assign(saved.variance)
        }
    }

    /// Runs `body` with `module`'s running statistics re-estimated on `images`, then restores the previous ones.
    public static func withStatistics<R>(of images: LabeledImages, in module: Layer, batchSize: Int, _ body: () throws -> R) rethrows -> R {
        let saved = snapshot(module)
        defer { restore(saved, into: module) }
        reestimate(module, on: images, batchSize: batchSize)
        return try body()
    }
}
