import Core

/// Batch normalisation of feature fields with statistics shared over each field's channels (Weiler & Cesa 2019,
/// "inner batch norm"): for regular fields the `|G|` orientation channels share one mean, variance, scale and
/// shift, which keeps the layer equivariant. Implemented by viewing `[N, F * d, H, W]` as `[N, F, d * H, W]` and
/// calling `batchNorm` (PyTorch semantics, see `Tensor.batchNorm`).
///
/// Input and output `[N, type.size, H, W]`; all fields must have the same size `d` (all regular or all trivial).
/// Parameters `weight`, `bias` `[F]`; buffers `running_mean`, `running_var` `[F]`, `num_batches_tracked`.
public final class EquivariantBatchNorm: Layer, BatchNormalizing, TypePreservingLayer {
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let numBatchesTracked: Tensor
    public let type: FieldType
    public let momentum: Float
    public let epsilon: Float
    public var modeOverride: BatchNormMode?
    public var momentumOverride: Float?
    public var runningStatistics: (mean: Tensor, variance: Tensor) { (runningMean, runningVar) }

    public init(_ type: FieldType, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        precondition(type.fieldCount > 0 && Set(type.representations.map(\.size)).count == 1,
                     "EquivariantBatchNorm needs fields of one size, got \(type)")
        precondition(type.isPermutationType, "EquivariantBatchNorm supports trivial and regular fields, got \(type)")
        self.type = type
        self.momentum = momentum
        self.epsilon = epsilon
        let f = type.fieldCount
        weight = Tensor.ones([f], requiresGrad: true)
        bias = Tensor.zeros([f], requiresGrad: true)
        runningMean = Tensor.zeros([f])
        runningVar = Tensor.ones([f])
        numBatchesTracked = Tensor.zeros([])
        super.init()
    }

    public override var bufferNames: Set<String> { ["runningMean", "runningVar", "numBatchesTracked"] }
    public override var integerBufferNames: Set<String> { ["numBatchesTracked"] }

    /// The mode the next forward pass uses.
    public var mode: BatchNormMode { modeOverride ?? (isTraining ? .training : .inference) }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "EquivariantBatchNorm")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let f = type.fieldCount, d = c / f
        let current = mode
        let out = input.reshaped([n, f, d * h, w]).batchNorm(
            runningMean: runningMean, runningVariance: runningVar, weight: weight, bias: bias, mode: current,
            momentum: momentumOverride ?? momentum, epsilon: epsilon)
        if current == .training { numBatchesTracked.scalars[0] += 1 }
        return out.reshaped([n, c, h, w])
    }

    public override func makeCopy() -> Module { EquivariantBatchNorm(type, momentum: momentum, epsilon: epsilon) }
}
