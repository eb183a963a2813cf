import Foundation

/// Pointwise activation functions with their derivatives, fused with the incoming gradient in one loop.
extension Tensor {
    /// max(x, 0). Derivative: 1 for x > 0, else 0.
    public func relu() -> Tensor {
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i] > 0 ? x[i] : 0 } }
        return Tensor.record("relu", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in
                for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : 0 }
            })]
        }
    }

    /// Leaky ReLU (Maas, Hannun & Ng 2013, "Rectifier nonlinearities improve neural network acoustic models"):
    /// x for x > 0, `slope * x` otherwise. Derivative: 1 or `slope`.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { let v = x[i]; o[i] = v > 0 ? v : slope * v } }
        return Tensor.record("leakyRelu", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in
                for i in r { let gv = g[i]; o[i] = x[i] > 0 ? gv : slope * gv }
            })]
        }
    }

    /// ELU (Clevert, Unterthiner & Hochreiter 2016, "Fast and accurate deep network learning by exponential
    /// linear units"): x for x > 0, `alpha (e^x - 1)` otherwise. Derivative: 1, or `alpha e^x` = y + alpha.
    public func elu(alpha: Float = 1) -> Tensor {
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { let v = x[i], e = alpha * expm1f(Swift.min(v, 0)); o[i] = v > 0 ? v : e } }
        return Tensor.record("elu", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in
                for i in r { let v = x[i], gv = g[i], e = gv * alpha * expf(Swift.min(v, 0)); o[i] = v > 0 ? gv : e }
            })]
        }
    }

    /// The logistic function 1 / (1 + e^-x), evaluated without overflow for either sign.
    /// Derivative: y (1 - y).
    public func sigmoid() -> Tensor {
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = stableSigmoid(x[i]) } }
        return Tensor.record("sigmoid", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, y) { g, y, o, r in
                for i in r { o[i] = g[i] * y[i] * (1 - y[i]) }
            })]
        }
    }

    /// Hyperbolic tangent. Derivative: 1 - y^2.
    public func tanh() -> Tensor {
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = tanhf(x[i]) } }
        return Tensor.record("tanh", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, y) { g, y, o, r in
                for i in r { o[i] = g[i] * (1 - y[i] * y[i]) }
            })]
        }
    }
}

/// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) otherwise, so the exponential never overflows.
/// Branch-free (one `expf` of -|x|, then a select): activations have random signs, and a branch per element
/// mispredicts half the time.
@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    let e = expf(-x.magnitude), s = 1 / (1 + e)
    return x >= 0 ? s : e * s
}
