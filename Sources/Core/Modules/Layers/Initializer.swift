import Foundation

/// Weight initialisers with PyTorch's conventions.
///
/// Fan-in and fan-out follow `torch.nn.init._calculate_fan_in_and_fan_out`: for a weight of shape
/// `[out, in, k...]`, fan-in is `in * prod(k)` and fan-out is `out * prod(k)`.
/// Kaiming initialisation: He, Zhang, Ren, Sun, "Delving Deep into Rectifiers" (ICCV 2015).
public enum Initializer {
    /// `(fanIn, fanOut)` of a weight of shape `[out, in, k...]` (rank >= 2).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan-in/fan-out need a weight of rank >= 2, shape is \(shape)")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Uniform values in `[-bound, bound)`.
    public static func uniform(_ shape: [Int], bound: Float, generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: generator.uniforms(shape.reduce(1, *), -bound, bound), requiresGrad: true)
    }

    /// `kaiming_uniform_(w, a: negativeSlope)` with fan-in: bound `sqrt(6 / ((1 + a^2) fanIn))`.
    /// With `a = sqrt(5)` (PyTorch's default for `Linear` and `Conv2d`) the bound is `1 / sqrt(fanIn)`.
    public static func kaimingUniform(_ shape: [Int], negativeSlope: Float = Float(5).squareRoot(),
                                      generator: inout SeededGenerator) -> Tensor {
        let gain = (2 / (1 + negativeSlope * negativeSlope)).squareRoot()
        let bound = gain * (3 / Float(fans(shape).fanIn)).squareRoot()
        return uniform(shape, bound: bound, generator: &generator)
    }

    /// `kaiming_normal_(w, mode: "fan_out", nonlinearity: "relu")` as torchvision's ResNet uses for convolutions:
    /// normal with standard deviation `sqrt(2 / fanOut)`.
    public static func kaimingNormal(fanOut shape: [Int], generator: inout SeededGenerator) -> Tensor {
        let std = (2 / Float(fans(shape).fanOut)).squareRoot()
        return Tensor(shape: shape, scalars: generator.normals(shape.reduce(1, *), std: std), requiresGrad: true)
    }

    /// PyTorch's default bias for `Linear`/`Conv2d`: uniform in `[-1/sqrt(fanIn), 1/sqrt(fanIn))`.
    public static func defaultBias(count: Int, fanIn: Int, generator: inout SeededGenerator) -> Tensor {
        uniform([count], bound: fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0, generator: &generator)
    }
}
