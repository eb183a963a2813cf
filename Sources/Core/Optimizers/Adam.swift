import Foundation

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015) with PyTorch's
/// `torch.optim.Adam` update, including its coupled L2 weight decay (added to the gradient):
///
///     g = g + weightDecay * p
///     m = beta1 * m + (1 - beta1) * g
///     v = beta2 * v + (1 - beta2) * g^2
///     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
///
/// `t` counts the steps each parameter received. The bias corrections are computed in double precision,
/// as PyTorch does with its Python-float step.
public class Adam: Optimizer {
    public var beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// Whether weight decay is decoupled from the gradient (AdamW) rather than an L2 term (Adam).
    let decoupledWeightDecay: Bool
    private var expAvg: [[Float]]
    private var expAvgSq: [[Float]]
    private var steps: [Int]

    public convenience init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                  weightDecay: weightDecay, decoupled: false)
    }

    init(parameters: [Tensor], learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
         decoupled: Bool) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        precondition(epsilon >= 0 && weightDecay >= 0, "Adam: epsilon and weight decay must be >= 0")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        decoupledWeightDecay = decoupled
        expAvg = [[Float]](repeating: [], count: parameters.count)
        expAvgSq = [[Float]](repeating: [], count: parameters.count)
        steps = [Int](repeating: 0, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override var cycledMomentum: Float? {
        get { beta1 }
        set { if let newValue { beta1 = newValue } }
    }

    public override func update(index: Int, parameter: Tensor, gradient: Tensor) {
        guard parameter.count > 0 else { return }
        if expAvg[index].isEmpty {
            expAvg[index] = [Float](repeating: 0, count: parameter.count)
            expAvgSq[index] = [Float](repeating: 0, count: parameter.count)
        }
        steps[index] += 1
        let t = Double(steps[index])
        let stepSize = Float(Double(learningRate) / (1 - Foundation.pow(Double(beta1), t)))
        let correction2 = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let shrink = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        expAvg[index].withUnsafeMutableBufferPointer { m in
            expAvgSq[index].withUnsafeMutableBufferPointer { v in
                parameter.scalars.withUnsafeMutableBufferPointer { p in
                    gradient.scalars.withUnsafeBufferPointer { g in
                        OptimizerKernels.adam(parameter: p.baseAddress!, gradient: g.baseAddress!, expAvg: m.baseAddress!,
                                              expAvgSq: v.baseAddress!, count: p.count, shrink: shrink, l2: l2, beta1: b1,
                                              beta2: b2, stepSize: stepSize, correction2: correction2, epsilon: eps)
                    }
                }
            }
        }
    }

    public override var stateSlotNames: [String] { ["exp_avg", "exp_avg_sq", "step"] }
    public override var counterSlotNames: Set<String> { ["step"] }

    public override func stateSlot(_ name: String) -> [[Float]] {
        switch name {
        case "exp_avg": return expAvg
        case "exp_avg_sq": return expAvgSq
        default: return steps.map { $0 == 0 ? [] : [Float($0)] }
        }
    }

    public override func setStateSlot(_ name: String, _ values: [[Float]]) {
        switch name {
        case "exp_avg": expAvg = values
        case "exp_avg_sq": expAvgSq = values
        default: steps = values.map { $0.first.map { Int($0) } ?? 0 }
        }
    }
}

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as PyTorch's
/// `torch.optim.AdamW`: the parameter is first shrunk by `1 - lr * weightDecay`, then takes the Adam step
/// computed from the raw gradient.
public final class AdamW: Adam {
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 1e-2) {
        super.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupled: true)
    }
}
