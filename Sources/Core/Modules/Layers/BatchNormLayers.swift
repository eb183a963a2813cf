/// A layer that normalises with batch statistics, whose mode `Module.withBatchNormMode(_:_:)` can override
/// for a whole module tree (AdaMatch runs source and target batches through the model with batch statistics
/// but without touching the running statistics). Equivariant batch norms conform too.
public protocol BatchNormalizing: AnyObject {
    /// When set, used instead of the mode implied by `isTraining`.
    var modeOverride: BatchNormMode? { get set }
    /// When set, used instead of the layer's `momentum` for running-statistics updates (`1/k` for the `k`-th batch
    /// gives the cumulative average over batches, PyTorch's `momentum=None`; AdaBN re-estimation uses it).
    var momentumOverride: Float? { get set }
    /// The running mean and variance buffers, `[C]` (or `[F]` fields).
    var runningStatistics: (mean: Tensor, variance: Tensor) { get }
}

/// Batch normalisation (Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
/// Internal Covariate Shift", ICML 2015) over the channel axis 1, with PyTorch semantics and torchvision names:
/// parameters `weight` (gamma, ones) and `bias` (beta, zeros); buffers `running_mean` (zeros), `running_var`
/// (ones) and `num_batches_tracked` (a count, saved as I64).
///
/// Mode: `.training` in training mode (batch statistics; running statistics updated with `momentum` and the
/// unbiased batch variance; the count incremented), `.inference` in evaluation mode (running statistics), or
/// `modeOverride` when set.
public class BatchNormLayer: Layer, BatchNormalizing {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// Number of training-mode batches seen, a one-element float tensor (exact up to 2^24).
    public let numBatchesTracked: Tensor
    public let featureCount: Int
    public let momentum: Float
    public let epsilon: Float
    public var modeOverride: BatchNormMode?
    public var momentumOverride: Float?
    public var runningStatistics: (mean: Tensor, variance: Tensor) { (runningMean, runningVar) }

    init(featureCount: Int, momentum: Float, epsilon: Float) {
        precondition(featureCount > 0, "batch norm needs a positive feature count, got \(featureCount)")
        precondition(momentum >= 0 && momentum <= 1 && epsilon > 0, "batch norm: momentum in [0, 1] and epsilon > 0 required")
        self.featureCount = featureCount
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Tensor.ones([featureCount], requiresGrad: true)
        bias = Tensor.zeros([featureCount], requiresGrad: true)
        runningMean = Tensor.zeros([featureCount])
        runningVar = Tensor.ones([featureCount])
        numBatchesTracked = Tensor.zeros([])
        super.init()
    }

    public override var bufferNames: Set<String> { ["runningMean", "runningVar", "numBatchesTracked"] }
    public override var integerBufferNames: Set<String> { ["numBatchesTracked"] }

    /// The mode the next forward pass uses.
    public var mode: BatchNormMode { modeOverride ?? (isTraining ? .training : .inference) }

    /// Normalises an input of rank 2 (`[N, C]`) or 4 (`[N, C, H, W]`).
    func normalize(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == featureCount,
                     "\(type(of: self)): input \(input.shape) does not have \(featureCount) channels on axis 1")
        let current = mode
        let output = input.batchNorm(runningMean: runningMean, runningVariance: runningVar, weight: weight, bias: bias,
                                     mode: current, momentum: momentumOverride ?? momentum, epsilon: epsilon)
        if current == .training { numBatchesTracked.scalars[0] += 1 }
        return output
    }
}

/// Batch norm over `[N, C, H, W]` (PyTorch `nn.BatchNorm2d`): statistics per channel over N, H and W.
public final class BatchNorm2D: BatchNormLayer {
    public override init(featureCount: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        super.init(featureCount: featureCount, momentum: momentum, epsilon: epsilon)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "BatchNorm2D: input \(input.shape) is not [N, C, H, W]")
        return normalize(input)
    }

    public override func makeCopy() -> Module { BatchNorm2D(featureCount: featureCount, momentum: momentum, epsilon: epsilon) }
}

/// Batch norm over `[N, C]` or `[N, C, L]` (PyTorch `nn.BatchNorm1d`): statistics per channel over N (and L).
public final class BatchNorm1D: BatchNormLayer {
    public override init(featureCount: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        super.init(featureCount: featureCount, momentum: momentum, epsilon: epsilon)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 || input.rank == 3, "BatchNorm1D: input \(input.shape) is not [N, C] or [N, C, L]")
        if input.rank == 2 { return normalize(input) }
        return normalize(input.reshaped(input.shape + [1])).reshaped(input.shape)
    }

    public override func makeCopy() -> Module { BatchNorm1D(featureCount: featureCount, momentum: momentum, epsilon: epsilon) }
}

extension Module {
    /// Runs `body` with every batch norm in this module tree (anything `BatchNormalizing`) forced into `mode`,
    /// then restores each one's previous override. AdaMatch uses `.batchStatistics`.
    public func withBatchNormMode<R>(_ mode: BatchNormMode, _ body: () throws -> R) rethrows -> R {
        let norms = allModules().compactMap { $0 as? BatchNormalizing }
        let previous = norms.map(\.modeOverride)
        for norm in norms { norm.modeOverride = mode }
        defer { for (norm, value) in zip(norms, previous) { norm.modeOverride = value } }
        return try body()
    }
}
