import Core

/// The residual block of ResNet18/34 (He et al. 2016, "Deep Residual Learning for Image Recognition"):
/// two 3x3 convolutions with batch norm, an identity (or 1x1 strided projection) shortcut, ReLU after the sum.
/// Keys follow torchvision: `conv1`, `bn1`, `conv2`, `bn2`, `downsample.0` (conv), `downsample.1` (bn).
public final class BasicBlock: Layer {
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    public let downsample: Sequential?
    let inputPlanes: Int, planes: Int, stride: Int

    public init(inputPlanes: Int, planes: Int, stride: Int, generator: inout SeededGenerator) {
        self.inputPlanes = inputPlanes
        self.planes = planes
        self.stride = stride
        conv1 = ResNet18.kaimingConv(inputPlanes, planes, kernelSize: 3, stride: stride, padding: 1, &generator)
        bn1 = BatchNorm2D(featureCount: planes)
        conv2 = ResNet18.kaimingConv(planes, planes, kernelSize: 3, stride: 1, padding: 1, &generator)
        bn2 = BatchNorm2D(featureCount: planes)
        if stride != 1 || inputPlanes != planes {
            downsample = Sequential([
                ResNet18.kaimingConv(inputPlanes, planes, kernelSize: 1, stride: stride, padding: 0, &generator),
                BatchNorm2D(featureCount: planes),
            ])
        } else {
            downsample = nil
        }
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let main = bn2(conv2(bn1(conv1(x)).relu()))
        let shortcut = downsample.map { $0(x) } ?? x
        return (main + shortcut).relu()
    }

    public override func makeCopy() -> Module {
        var g = SeededGenerator(seed: 0)
        return BasicBlock(inputPlanes: inputPlanes, planes: planes, stride: stride, generator: &g)
    }
}

/// torchvision's ResNet18 adapted to one input channel as in the DeepLense domain adaptation reference:
/// `conv1` 7x7 stride 2 (1 -> 64, no bias), BN, ReLU, 3x3 max pool stride 2, four stages of two BasicBlocks
/// (64, 128, 256, 512 planes; stages 2-4 start with stride 2), global average pool, `fc` 512 -> `featureCount`
/// with no activation. 11,301,568 parameters for 256 features.
///
/// Input `[N, 1, H, W]` (any H, W >= 32), output `[N, featureCount]`. State dict keys are torchvision's, so weights
/// saved with `safetensors.torch.save_file(model.state_dict(), ...)` load unchanged and ours load into PyTorch.
public final class ResNet18: Layer, Backbone, FLOPCounting {
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let fc: Linear
    public let featureCount: Int
    public var requiresSquareInput: Bool { false }
    public var architectureName: String { "resnet18" }
    private let _seed: UInt64

    /// Builds the network with torchvision's initialisation (Kaiming normal, fan-out, for convolutions;
    /// BN weight 1, bias 0; PyTorch's default Linear initialisation for `fc`), all drawn from `seed`.
    public init(featureCount: Int = 256, seed: UInt64 = 0) {
        self.featureCount = featureCount
        _seed = seed
        var g = SeededGenerator(seed: seed)
        conv1 = ResNet18.kaimingConv(1, 64, kernelSize: 7, stride: 2, padding: 3, &g)
        bn1 = BatchNorm2D(featureCount: 64)
        func stage(_ input: Int, _ planes: Int, _ stride: Int) -> Sequential {
            Sequential([
                BasicBlock(inputPlanes: input, planes: planes, stride: stride, generator: &g),
                BasicBlock(inputPlanes: planes, planes: planes, stride: 1, generator: &g),
            ])
        }
        layer1 = stage(64, 64, 1)
        layer2 = stage(64, 128, 2)
        layer3 = stage(128, 256, 2)
        layer4 = stage(256, 512, 2)
        fc = Linear(inputFeatures: 512, outputFeatures: featureCount, generator: &g)
        super.init()
    }

    public override func forward(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 1,
                     "ResNet18 expects [N, 1, H, W] images, got \(images.shape)")
        var x = bn1(conv1(images)).relu().maxPool2d(kernelSize: 3, stride: 2, padding: 1)
        x = layer4(layer3(layer2(layer1(x))))
        return fc(x.globalAvgPool2d())
    }

    public override func makeCopy() -> Module { ResNet18(featureCount: featureCount, seed: _seed) }

    public func forwardFLOPs(height: Int, width: Int) -> Double {
        var flops = 0.0
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ h: Int, _ w: Int) { flops += 2.0 * Double(cin * cout * k * k * h * w) }
        func out(_ s: Int, _ k: Int, _ stride: Int, _ p: Int) -> Int { (s + 2 * p - k) / stride + 1 }
        var h = out(height, 7, 2, 3), w = out(width, 7, 2, 3)
        conv(1, 64, 7, h, w)
        h = out(h, 3, 2, 1); w = out(w, 3, 2, 1)
        var planes = 64
        for (stageIndex, stagePlanes) in [64, 128, 256, 512].enumerated() {
            for block in 0..<2 {
                let stride = stageIndex > 0 && block == 0 ? 2 : 1
                let ho = out(h, 3, stride, 1), wo = out(w, 3, stride, 1)
                conv(planes, stagePlanes, 3, ho, wo)
                conv(stagePlanes, stagePlanes, 3, ho, wo)
                if stride != 1 || planes != stagePlanes { conv(planes, stagePlanes, 1, ho, wo) }
                planes = stagePlanes; h = ho; w = wo
            }
        }
        flops += 2.0 * Double(512 * featureCount)
        return flops
    }

    /// A bias-free convolution initialised as torchvision does: normal with std sqrt(2 / fan_out).
    static func kaimingConv(_ cin: Int, _ cout: Int, kernelSize k: Int, stride: Int, padding: Int,
                            _ g: inout SeededGenerator) -> Conv2D {
        let conv = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: k, stride: stride, padding: padding,
                          bias: false, generator: &g)
        let std = (2.0 / Float(cout * k * k)).squareRoot()
        conv.weight.assign(g.normals(conv.weight.count, std: std))
        return conv
    }
}
