/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's `torch.optim.SGD` update (Sutskever, Martens, Dahl, Hinton, "On the importance of initialization
/// and momentum in deep learning", ICML 2013, for the Nesterov form):
///
///     d = g + weightDecay * p
///     b = d                                   (first step)
///     b = momentum * b + (1 - dampening) * d  (later steps)
///     d = nesterov ? d + momentum * b : b     (when momentum != 0)
///     p = p - lr * d
public final class SGD: Optimizer {
    public var momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var momentumBuffers: [[Float]]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0 && weightDecay >= 0, "SGD: momentum and weight decay must be >= 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and no dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffers = [[Float]](repeating: [], count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override var cycledMomentum: Float? {
        get { momentum }
        set { if let newValue { momentum = newValue } }
    }

    public override func update(index: Int, parameter: Tensor, gradient: Tensor) {
        guard parameter.count > 0 else { return }
        let (lr, wd, mu, damp, nesterov) = (learningRate, weightDecay, momentum, dampening, self.nesterov)
        if mu == 0 {
            parameter.scalars.withUnsafeMutableBufferPointer { p in
                gradient.scalars.withUnsafeBufferPointer { g in
                    OptimizerKernels.sgd(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: nil, count: p.count,
                                         learningRate: lr, weightDecay: wd, momentum: 0, dampening: 0, nesterov: false, first: false)
                }
            }
            return
        }
        let first = momentumBuffers[index].isEmpty
        if first { momentumBuffers[index] = [Float](repeating: 0, count: parameter.count) }
        momentumBuffers[index].withUnsafeMutableBufferPointer { b in
            parameter.scalars.withUnsafeMutableBufferPointer { p in
                gradient.scalars.withUnsafeBufferPointer { g in
                    OptimizerKernels.sgd(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: b.baseAddress!, count: p.count,
                                         learningRate: lr, weightDecay: wd, momentum: mu, dampening: damp, nesterov: nesterov,
                                         first: first)
                }
            }
        }
    }

    public override var stateSlotNames: [String] { ["momentum_buffer"] }
    public override func stateSlot(_ name: String) -> [[Float]] { momentumBuffers }
    public override func setStateSlot(_ name: String, _ values: [[Float]]) { momentumBuffers = values }
}
