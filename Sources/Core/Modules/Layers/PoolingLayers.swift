/// 2-D max pooling (PyTorch `nn.MaxPool2d`, square windows, padding with -infinity).
/// Input `[N, C, H, W]`, output `[N, C, (H + 2 padding - kernelSize) / stride + 1, ...]`; `stride` defaults to
/// `kernelSize`.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public override func makeCopy() -> Module { MaxPool2D(kernelSize: kernelSize, stride: stride, padding: padding) }
}

/// 2-D average pooling (PyTorch `nn.AvgPool2d` with `count_include_pad=True`: padded zeros count in the mean).
/// Input `[N, C, H, W]`, output `[N, C, (H + 2 padding - kernelSize) / stride + 1, ...]`; `stride` defaults to
/// `kernelSize`.
public final class AvgPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
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
