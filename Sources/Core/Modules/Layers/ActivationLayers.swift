/// Rectified linear unit `max(x, 0)` (Nair & Hinton, ICML 2010), elementwise, any shape.
public final class ReLU: Layer {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.relu() }
    public override func makeCopy() -> Module { ReLU() }
}

/// Leaky ReLU `x > 0 ? x : slope * x` (Maas, Hannun, Ng, ICML 2013), elementwise, any shape.
public final class LeakyReLU: Layer {
    public let slope: Float
    public init(slope: Float = 0.01) {
        self.slope = slope
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.leakyRelu(slope: slope) }
    public override func makeCopy() -> Module { LeakyReLU(slope: slope) }
}

/// Exponential linear unit `x > 0 ? x : alpha (e^x - 1)` (Clevert, Unterthiner, Hochreiter, ICLR 2016),
/// elementwise, any shape.
public final class ELU: Layer {
    public let alpha: Float
    public init(alpha: Float = 1) {
        self.alpha = alpha
        super.init()
    }
    public override func forward(_ input: Tensor) -> Tensor { input.elu(alpha: alpha) }
    public override func makeCopy() -> Module { ELU(alpha: alpha) }
}

/// Logistic sigmoid `1 / (1 + e^-x)`, elementwise, any shape.
public final class Sigmoid: Layer {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
    public override func makeCopy() -> Module { Sigmoid() }
}

/// Hyperbolic tangent, elementwise, any shape.
public final class Tanh: Layer {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
    public override func makeCopy() -> Module { Tanh() }
}

/// Collapses every axis after the first: `[N, ...] -> [N, rest]` (PyTorch `nn.Flatten`).
public final class Flatten: Layer {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input.flattened() }
    public override func makeCopy() -> Module { Flatten() }
}
