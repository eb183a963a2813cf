/// 2-D pooling of every channel over square windows (PyTorch `nn.MaxPool2d` / `nn.AvgPool2d`, floor mode): each
/// output pixel is the maximum or the mean of its `kernelSize x kernelSize` window (`Tensor.pool2d`).
/// Input `[N, C, H, W]`, output `[N, C, (H + 2 padding - kernelSize) / stride + 1, ...]`; `stride` defaults to
/// `kernelSize`.
open class Pool2D: Layer {
    public let kind: PoolingKind
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(_ kind: PoolingKind, kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kind = kind
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    open override func forward(_ input: Tensor) -> Tensor {
        input.pool2d(kind, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    open override func makeCopy() -> Module { Pool2D(kind, kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D max pooling (PyTorch `nn.MaxPool2d`, square windows, padding with -infinity); shapes as `Pool2D`.
public final class MaxPool2D: Pool2D {
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.max, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override func makeCopy() -> Module { MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D average pooling (PyTorch `nn.AvgPool2d` with `count_include_pad=True`: padded zeros count in the mean);
/// shapes as `Pool2D`.
public final class AvgPool2D: Pool2D {
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.average, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override func makeCopy() -> Module { AvgPool2D(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// Global average pooling over the spatial axes (Lin, Chen, Yan, "Network In Network", ICLR 2014):
/// `[N, C, H, W] -> [N, C]`, as ResNet's `avgpool` followed by `flatten`.
public final class GlobalAvgPool: Layer {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.globalAvgPool2d() }
    public override func makeCopy() -> Module { GlobalAvgPool() }
}
