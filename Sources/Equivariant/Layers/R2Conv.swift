import Core
import Foundation

/// A group-equivariant convolution between feature fields of trivial and regular type with steerable filters
/// (Cohen & Welling, "Group Equivariant CNNs", ICML 2016; Weiler & Cesa, "General E(2)-Equivariant Steerable
/// CNNs", NeurIPS 2019): lifting (trivial -> regular), group convolution (regular -> regular), projection
/// (regular -> trivial), and mixtures of those.
///
/// Input `[N, inType.size, H, W]`, output `[N, outType.size, H', W']` with
/// `H' = (H + 2 padding - dilation (k - 1) - 1) / stride + 1`.
///
/// Parameters: `weight`, the steerable-basis coefficients `[coefficientCount]` (layout in `FilterExpansion`),
/// and `bias` `[outType.fieldCount]`, one value per output field added to all of its channels (the only
/// equivariant bias for trivial and regular fields). Each training forward expands the coefficients into the
/// filter bank `[outType.size, inType.size, k, k]` with `FilterExpansion` (GEMM + batched FFTW c2r over the
/// harmonic index) and calls `conv2d`; the backward maps the filter gradient to the coefficients with the
/// adjoint transform. In eval mode the expanded filter is cached in `_filterCache` (never in the state dict)
/// and rebuilt whenever `weight.version` or `bias.version` changes.
///
/// Exact 90-degree equivariance (for groups containing the quarter turn) holds when every strided layer sees
/// `(S + 2 padding - dilation (k - 1) - 1) % stride == 0` for input side `S` (the sampling grid is then centred
/// on the image centre); stride 1 is exact for every `S`. Example: a stride-2 5x5 layer with padding 2 is exact
/// on 65x65 inputs and not on 64x64.
public final class R2Conv: Layer, EquivariantLayer {
    /// Basis coefficients `[coefficientCount]`.
    public let weight: Tensor
    /// Per-output-field bias `[outType.fieldCount]`, or nil.
    public let bias: Tensor?
    public let inType: FieldType
    public let outType: FieldType
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int
    /// The shared coefficient-to-filter map of this layer shape.
    public let expansion: FilterExpansion
    private var _filterCache: (weightVersion: Int, biasVersion: Int, filter: Tensor, bias: Tensor?)?
    private let _biasIndices: [Int]

    /// - Parameters:
    ///   - inType, outType: field types (same group), trivial and regular fields only.
    ///   - kernelSize: odd.
    ///   - generator: draws the initial coefficients (generalised He initialisation, Weiler et al. 2018: normal
    ///     coefficients whose variance makes the expanded filter's expected squared norm 2 per output channel,
    ///     the He gain for ReLU; the expectation is the trace of the expansion's Gram matrix, so no expansion is
    ///     needed at construction).
    public init(_ inType: FieldType, _ outType: FieldType, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        precondition(stride >= 1 && padding >= 0 && dilation >= 1, "R2Conv: invalid stride \(stride), padding \(padding), dilation \(dilation)")
        self.inType = inType
        self.outType = outType
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        let expansion = FilterExpansion.shared(from: inType, to: outType, kernelSize: kernelSize)
        self.expansion = expansion
        let meanSquare = expansion.expectedSquaredNorm / Double(max(1, outType.size))
        let std = Float(meanSquare > 0 ? (2 / meanSquare).squareRoot() : 1)
        weight = Tensor(shape: [expansion.coefficientCount], scalars: generator.normals(expansion.coefficientCount, std: std),
                        requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outType.fieldCount], requiresGrad: true) : nil
        var indices: [Int] = []
        for (f, rep) in outType.representations.enumerated() { indices += Array(repeating: f, count: rep.size) }
        _biasIndices = indices
        super.init()
    }

    /// The expanded filter bank `[outType.size, inType.size, k, k]` and per-channel bias, differentiable in the
    /// coefficients (cached in eval mode while the parameters are unchanged and no gradient is wanted).
    public func expandedFilter() -> (weight: Tensor, bias: Tensor?) {
        let wantsGradient = GradientMode.isRecording && (weight.requiresGrad || bias?.requiresGrad == true)
        if !isTraining, !wantsGradient, let cache = _filterCache,
           cache.weightVersion == weight.version, cache.biasVersion == (bias?.version ?? 0) {
            return (cache.filter, cache.bias)
        }
        let filter = weight.applying(expansion, name: "steerableExpansion")
        let channelBias = bias.map { $0.indexSelect(axis: 0, indices: _biasIndices) }
        if !isTraining, !wantsGradient {
            _filterCache = (weight.version, bias?.version ?? 0, filter, channelBias)
        } else {
            _filterCache = nil
        }
        return (filter, channelBias)
    }

    /// Whether the eval-mode filter cache currently holds a filter.
    public var hasCachedFilter: Bool { _filterCache != nil }

    public override func forward(_ input: Tensor) -> Tensor {
        inType.check(input.shape, in: "R2Conv(\(inType) -> \(outType))")
        let (w, b) = expandedFilter()
        return input.conv2d(w, bias: b, stride: stride, padding: padding, dilation: dilation)
    }

    /// A plain `Conv2D` holding the expanded filter and bias: its output equals this layer's.
    public func export() -> Conv2D {
        var g = SeededGenerator(seed: 0)
        let conv = Conv2D(inputChannels: inType.size, outputChannels: outType.size, kernelSize: kernelSize, stride: stride,
                          padding: padding, dilation: dilation, bias: bias != nil, generator: &g)
        let (w, b) = withoutGradient { expandedFilter() }
        conv.weight.assign(w.scalars)
        if let b { conv.bias?.assign(b.scalars) }
        return conv
    }

    public override func didChangeMode() { _filterCache = nil }

    public override func makeCopy() -> Module {
        var g = SeededGenerator(seed: 0)
        return R2Conv(inType, outType, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation,
                      bias: bias != nil, generator: &g)
    }
}
