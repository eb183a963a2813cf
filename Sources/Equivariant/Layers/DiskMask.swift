import Core
import Foundation

/// Multiplies every channel by a radial mask that is 1 inside radius `radiusFraction * min(H, W) / 2` and
/// falls off as a Gaussian of width `falloff` px outside (e2cnn's `MaskModule`): it removes the image corners,
/// which a rotation by a non-multiple of 90 degrees would move out of the frame. Invariant under the whole
/// group (quarter turns and flips map the mask onto itself), so equivariant for any field type.
/// Input and output `[N, type.size, H, W]`.
public final class DiskMask: Layer, TypePreservingLayer {
    public let type: FieldType
    public let radiusFraction: Double
    public let falloff: Double
    private var _mask: Tensor?

    public init(_ type: FieldType, radiusFraction: Double = 1, falloff: Double = 2) {
        self.type = type
        self.radiusFraction = radiusFraction
        self.falloff = falloff
        super.init()
    }

    /// The mask `[1, 1, H, W]` for an input of side `height x width`.
    public func mask(height h: Int, width w: Int) -> Tensor {
        if let m = _mask, m.shape[2] == h, m.shape[3] == w { return m }
        let radius = radiusFraction * Double(min(h, w)) / 2, cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        var values = [Float](repeating: 0, count: h * w)
        for i in 0..<h {
            for j in 0..<w {
                let r = ((Double(i) - cy) * (Double(i) - cy) + (Double(j) - cx) * (Double(j) - cx)).squareRoot()
                values[i * w + j] = r <= radius ? 1 : Float(Gaussian.profile(r - radius, sigma: falloff))
            }
        }
        let m = Tensor(shape: [1, 1, h, w], scalars: values)
        _mask = m
        return m
    }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "DiskMask")
        return input * mask(height: input.shape[2], width: input.shape[3])
    }

    public override func makeCopy() -> Module { DiskMask(type, radiusFraction: radiusFraction, falloff: falloff) }
}

/// Dropout of whole fields (e2cnn's `FieldDropout`): in training mode each field of each sample is zeroed with
/// probability `probability`, and kept fields are scaled by `1 / (1 - probability)`; all channels of a field share
/// one draw, so the layer commutes with the group action. Identity in eval mode. Input `[N, type.size, H, W]`.
public final class FieldDropout: Layer, TypePreservingLayer {
    public let type: FieldType
    public let probability: Float
    /// The random stream (advances with every training forward).
    public var generator: SeededGenerator

    public init(_ type: FieldType, probability: Float = 0.5, generator: SeededGenerator) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
        self.type = type
        self.probability = probability
        self.generator = generator
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        type.check(input.shape, in: "FieldDropout")
        guard isTraining, probability > 0 else { return input }
        let n = input.shape[0], c = type.size
        var mask = [Float](repeating: 0, count: n * c)
        let scale = 1 / (1 - probability)
        for s in 0..<n {
            for (offset, rep) in zip(type.channelOffsets, type.representations) {
                let keep: Float = generator.bernoulli(Double(probability)) ? 0 : scale
                for ch in offset..<(offset + rep.size) { mask[s * c + ch] = keep }
            }
        }
        return input * Tensor(shape: [n, c, 1, 1], scalars: mask)
    }

    public override func makeCopy() -> Module { FieldDropout(type, probability: probability, generator: generator) }
}
