import Core
import Equivariant

/// How wide an equivariant ResNet is relative to ResNet18's 64-128-256-512 planes.
public enum EquivariantWidth: String, Sendable, CaseIterable {
    /// `planes / |G|` regular fields: the same channel count (and about the same convolution FLOPs) as ResNet18,
    /// far fewer parameters.
    case channelMatched = "channel-matched"
    /// `planes * sqrt(|G|) / |G|` regular fields: about ResNet18's parameter count, `sqrt(|G|)` times its channels.
    case parameterMatched = "parameter-matched"

    func fields(planes: Int, groupOrder: Int) -> Int {
        switch self {
        case .channelMatched: return max(1, planes / groupOrder)
        case .parameterMatched: return max(1, Int((Double(planes) * Double(groupOrder).squareRoot() / Double(groupOrder)).rounded()))
        }
    }
}

/// The equivariant counterpart of `BasicBlock`: two 3x3 `R2Conv`s between regular fields with equivariant batch
/// norm and pointwise ReLU, and an identity or 1x1 strided `R2Conv` shortcut.
public final class EquivariantBasicBlock: Layer, EquivariantLayer {
    public let conv1: R2Conv
    public let bn1: EquivariantBatchNorm
    public let conv2: R2Conv
    public let bn2: EquivariantBatchNorm
    public let downsample: Sequential?
    public let inType: FieldType
    public let outType: FieldType
    let stride: Int

    public init(_ inType: FieldType, _ outType: FieldType, stride: Int, generator g: inout SeededGenerator) {
        self.inType = inType
        self.outType = outType
        self.stride = stride
        conv1 = R2Conv(inType, outType, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &g)
        bn1 = EquivariantBatchNorm(outType)
        conv2 = R2Conv(outType, outType, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: &g)
        bn2 = EquivariantBatchNorm(outType)
        if stride != 1 || inType != outType {
            downsample = Sequential([
                R2Conv(inType, outType, kernelSize: 1, stride: stride, padding: 0, bias: false, generator: &g),
                EquivariantBatchNorm(outType),
            ])
        } else {
            downsample = nil
        }
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let main = bn2(conv2(bn1(conv1(x)).relu()))
        return (main + (downsample.map { $0(x) } ?? x)).relu()
    }

    public override func makeCopy() -> Module {
        var g = SeededGenerator(seed: 0)
        return EquivariantBasicBlock(inType, outType, stride: stride, generator: &g)
    }
}

/// A rotation-equivariant ResNet18 (C_N or D_N steerable convolutions; Weiler & Cesa 2019, "General E(2)-Equivariant
/// Steerable CNNs", built as in Cohen & Welling 2016 with ResNet18's stages and strides):
/// lifting `R2Conv` 7x7 stride 2 (1 trivial -> F0 regular fields), equivariant BN, ReLU, 3x3 stride-2 pointwise max
/// pool, four stages of two `EquivariantBasicBlock`s (stages 2-4 start with stride 2), group max pooling to invariant
/// fields, global average pooling, and `fc` (F3 -> `featureCount`).
///
/// Input `[N, 1, S, S]`, output `[N, featureCount]`. Images are first brought to a valid side by
/// `EquivariantInputResampler` (64 -> 65, 150 -> 161), so in eval mode the features of an image rotated by a multiple
/// of 90 degrees (and, for D_N, reflected) equal the features of the image up to float rounding.
public final class EquivariantResNet: Layer, Backbone, FLOPCounting {
    public let conv1: R2Conv
    public let bn1: EquivariantBatchNorm
    public let layer1: Sequential
    public let layer2: Sequential
    public let layer3: Sequential
    public let layer4: Sequential
    public let pool: GroupPooling
    public let fc: Linear
    public let featureCount: Int
    /// Quarter turns map the sampling grid onto itself only on square images.
    public var requiresSquareInput: Bool { true }
    public let group: SymmetryGroup
    public let width: EquivariantWidth
    /// Regular fields per stage.
    public let stageFields: [Int]
    public let architectureName: String
    private let _seed: UInt64
    private var _resampler: EquivariantInputResampler?

    public init(group: SymmetryGroup = .cyclic(8), width: EquivariantWidth = .channelMatched, featureCount: Int = 256,
                name: String? = nil, seed: UInt64 = 0) {
        self.group = group
        self.width = width
        self.featureCount = featureCount
        _seed = seed
        architectureName = name ?? "\(group.description.lowercased())resnet"
        var g = SeededGenerator(seed: seed)
        let fields = [64, 128, 256, 512].map { width.fields(planes: $0, groupOrder: group.order) }
        stageFields = fields
        let types = fields.map { FieldType(group, regular: $0) }
        conv1 = R2Conv(FieldType(group, trivial: 1), types[0], kernelSize: 7, stride: 2, padding: 3, bias: false, generator: &g)
        bn1 = EquivariantBatchNorm(types[0])
        func stage(_ input: FieldType, _ output: FieldType, _ stride: Int) -> Sequential {
            Sequential([EquivariantBasicBlock(input, output, stride: stride, generator: &g),
                        EquivariantBasicBlock(output, output, stride: 1, generator: &g)])
        }
        layer1 = stage(types[0], types[0], 1)
        layer2 = stage(types[0], types[1], 2)
        layer3 = stage(types[1], types[2], 2)
        layer4 = stage(types[2], types[3], 2)
        pool = GroupPooling(types[3], .max)
        fc = Linear(inputFeatures: fields[3], outputFeatures: featureCount, generator: &g)
        super.init()
    }

    public override func forward(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 1 && images.shape[2] == images.shape[3],
                     "\(architectureName) expects square [N, 1, S, S] images, got \(images.shape)")
        if _resampler?.inputSide != images.shape[2] { _resampler = EquivariantInputResampler(inputSide: images.shape[2]) }
        var x = _resampler!(images)
        x = bn1(conv1(x)).relu().maxPool2d(kernelSize: 3, stride: 2, padding: 1)
        x = layer4(layer3(layer2(layer1(x))))
        return fc(pool(x).globalAvgPool2d())
    }

    public override func makeCopy() -> Module {
        EquivariantResNet(group: group, width: width, featureCount: featureCount, name: architectureName, seed: _seed)
    }

    /// Convolution FLOPs of the expanded filters (the filter expansion itself is negligible at batch size > 1).
    public func forwardFLOPs(height: Int, width: Int) -> Double {
        let g = group.order
        var side = EquivariantInputResampler.validSide(near: height)
        var flops = 0.0
        func out(_ s: Int, _ k: Int, _ stride: Int, _ p: Int) -> Int { (s + 2 * p - k) / stride + 1 }
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ s: Int) { flops += 2.0 * Double(cin * cout * k * k * s * s) }
        side = out(side, 7, 2, 3)
        conv(1, stageFields[0] * g, 7, side)
        side = out(side, 3, 2, 1)
        var channels = stageFields[0] * g
        for (i, f) in stageFields.enumerated() {
            for block in 0..<2 {
                let stride = i > 0 && block == 0 ? 2 : 1
                side = out(side, 3, stride, 1)
                conv(channels, f * g, 3, side)
                conv(f * g, f * g, 3, side)
                if channels != f * g || stride != 1 { conv(channels, f * g, 1, side) }
                channels = f * g
            }
        }
        return flops + 2.0 * Double(stageFields[3] * featureCount)
    }
}
