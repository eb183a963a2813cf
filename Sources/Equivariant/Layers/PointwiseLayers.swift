import Core
import Foundation

/// A non-linearity applied to every channel independently. Equivariant for trivial and regular fields, whose
/// group action only permutes channels (Cohen & Welling 2016). Input and output `[N, type.size, H, W]`.
public final class PointwiseNonlinearity: Layer, TypePreservingLayer {
    public enum Function: Sendable, Equatable {
        case relu, elu(alpha: Float), leakyRelu(slope: Float), sigmoid, tanh
    }

    public let type: FieldType
    public let function: Function

    public init(_ type: FieldType, _ function: Function = .relu) {
        precondition(type.isPermutationType, "pointwise non-linearities are equivariant only for trivial and regular fields, got \(type)")
        self.type = type
        self.function = function
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "PointwiseNonlinearity")
        switch function {
        case .relu: return input.relu()
        case .elu(let alpha): return input.elu(alpha: alpha)
        case .leakyRelu(let slope): return input.leakyRelu(slope: slope)
        case .sigmoid: return input.sigmoid()
        case .tanh: return input.tanh()
        }
    }

    public override func makeCopy() -> Module { PointwiseNonlinearity(type, function) }
}

/// Spatial max or average pooling of every channel (`maxPool2d` / `avgPool2d`, PyTorch semantics), equivariant
/// for trivial and regular fields. Exact under quarter turns when `(S + 2 padding - kernelSize) % stride == 0`
/// for input side `S` (e.g. 2x2 stride 2 on even sides). Input `[N, type.size, H, W]`.
public final class PointwisePool: Pool2D, TypePreservingLayer {
    public typealias Kind = PoolingKind

    public let type: FieldType

    public init(_ type: FieldType, _ kind: Kind, kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(type.isPermutationType, "pointwise pooling is equivariant only for trivial and regular fields, got \(type)")
        self.type = type
        super.init(kind, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "PointwisePool")
        return super.forward(input)
    }

    public override func makeCopy() -> Module { PointwisePool(type, kind, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Anti-aliased average pooling (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019;
/// e2cnn's `PointwiseAvgPoolAntialiased`): an isotropic Gaussian blur of width `sigma` px, truncated at
/// `3 sigma`, applied to every channel, sampled with `stride`. The isotropic kernel keeps rotation errors low;
/// quarter turns are exact when `(S + 2 padding - kernelSize) % stride == 0`. Input `[N, type.size, H, W]`.
public final class AntiAliasedAvgPool: Layer, TypePreservingLayer {
    public let type: FieldType
    public let sigma: Double
    public let stride: Int
    public let padding: Int
    /// The normalised blur kernel `[1, 1, k, k]` (a constant, not a parameter).
    private let _kernel: Tensor

    public init(_ type: FieldType, sigma: Double = 0.6, stride: Int = 2, padding: Int? = nil) {
        precondition(type.isPermutationType, "pointwise pooling is equivariant only for trivial and regular fields, got \(type)")
        self.type = type
        self.sigma = sigma
        self.stride = stride
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        self.padding = padding ?? radius
        let size = 2 * radius + 1
        let line = Gaussian.kernel(size: size, sigma: sigma)
        _kernel = Tensor(shape: [1, 1, size, size], scalars: (0..<(size * size)).map { Float(line[$0 / size] * line[$0 % size]) })
        super.init()
    }

    /// Side of the blur kernel.
    public var kernelSize: Int { _kernel.shape[2] }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "AntiAliasedAvgPool")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let out = input.reshaped([n * c, 1, h, w]).conv2d(_kernel, stride: stride, padding: padding)
        return out.reshaped([n, c, out.shape[2], out.shape[3]])
    }

    public override func makeCopy() -> Module { AntiAliasedAvgPool(type, sigma: sigma, stride: stride, padding: padding) }
}
