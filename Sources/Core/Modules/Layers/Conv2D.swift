/// 2-D cross-correlation layer (PyTorch `nn.Conv2d`, square kernels, groups = 1).
///
/// Input `[N, inputChannels, H, W]`, output `[N, outputChannels, H', W']` with
/// `H' = (H + 2 padding - dilation (kernelSize - 1) - 1) / stride + 1` (same for W).
/// Weight `[outputChannels, inputChannels, kernelSize, kernelSize]`, bias `[outputChannels]`.
/// Initialised as PyTorch does: `kaiming_uniform_(a = sqrt(5))`, i.e. uniform in `±1/sqrt(fanIn)` with
/// `fanIn = inputChannels * kernelSize^2`, and the bias uniform in the same range.
public final class Conv2D: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int

    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0 && dilation > 0,
                     "Conv2D: invalid configuration \(inputChannels)->\(outputChannels) k\(kernelSize) s\(stride) p\(padding) d\(dilation)")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        let shape = [outputChannels, inputChannels, kernelSize, kernelSize]
        weight = Initializer.kaimingUniform(shape, generator: &generator)
        self.bias = bias
            ? Initializer.defaultBias(count: outputChannels, fanIn: Initializer.fans(shape).fanIn, generator: &generator)
            : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inputChannels,
                     "Conv2D: input \(input.shape) is not [N, \(inputChannels), H, W]")
        return input.conv2d(weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
    }

    public override func makeCopy() -> Module {
        var g = SeededGenerator(seed: 0)
        return Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
                      padding: padding, dilation: dilation, bias: bias != nil, generator: &g)
    }
}
