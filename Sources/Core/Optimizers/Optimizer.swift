/// The base of first-order optimizers over a fixed list of parameter tensors.
///
/// `step()` applies one update to every parameter that has a gradient (parameters whose `grad` is nil are
/// skipped, as in PyTorch); subclasses override `update(index:parameter:gradient:)`, the rule for one tensor.
/// Updates write through `Tensor.scalars` in place, so each bumps the parameter's `version`.
///
/// Per-parameter state (momentum buffers, moment estimates) is allocated on a parameter's first update and
/// reused afterwards: a step allocates nothing. `stateDict()` / `load(stateDict:)` save and restore the state
/// (and the learning rate) for resumable training; the result can be written with `Safetensors`.
open class Optimizer {
    /// The tensors this optimizer updates, in a fixed order (state keys use these indices).
    public let parameters: [Tensor]
    /// The learning rate of the next step; schedulers set it.
    public var learningRate: Float
    /// Number of `step()` calls so far.
    public internal(set) var stepCount = 0
    /// In data-parallel training, averages the gradients over the ranks at the start of every `step()`.
    public var gradientAveraging: GradientAveraging?

    public init(parameters: [Tensor], learningRate: Float) {
        precondition(learningRate >= 0, "learning rate must be >= 0, got \(learningRate)")
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// The momentum-like coefficient a one-cycle schedule cycles (SGD's momentum, Adam's beta1); nil if none.
    open var cycledMomentum: Float? {
        get { nil }
        set {}
    }

    /// Applies one update to every parameter that has a gradient (after averaging the gradients over the ranks
    /// when `gradientAveraging` is set).
    public func step() {
        gradientAveraging?.average(parameters)
        stepCount += 1
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            checkSameShape(parameter, gradient, "\(type(of: self)).step")
            update(index: index, parameter: parameter, gradient: gradient)
        }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() {
        for parameter in parameters { parameter.grad = nil }
    }

    /// Updates one parameter in place from its gradient. `index` identifies its state.
    open func update(index: Int, parameter: Tensor, gradient: Tensor) {
        preconditionFailure("\(type(of: self)) must override update(index:parameter:gradient:)")
    }

    // MARK: State

    /// Names of per-parameter state slots (e.g. `exp_avg`), each holding one array per parameter
    /// (empty until that parameter's first update).
    open var stateSlotNames: [String] { [] }

    /// Slots holding one integer count per parameter (saved as an I64 scalar, e.g. Adam's `step`) rather than
    /// one value per parameter element.
    open var counterSlotNames: Set<String> { [] }

    /// The arrays of one slot, one per parameter.
    open func stateSlot(_ name: String) -> [[Float]] { [] }

    /// Replaces the arrays of one slot (already validated against the parameters' sizes).
    open func setStateSlot(_ name: String, _ values: [[Float]]) {}

    /// Scalar hyperparameters that change during training and are saved with the state (besides `lr`).
    open var savedScalars: [String: Float] {
        get { cycledMomentum.map { ["momentum": $0] } ?? [:] }
        set { if let m = newValue["momentum"] { cycledMomentum = m } }
    }

    /// The optimizer state with PyTorch-like keys: `step`, `lr`, `momentum` (if cycled) and
    /// `state.<index>.<slot>` for each parameter whose slot is allocated.
    public func stateDict() -> StateDict {
        var state = StateDict()
        state["step"] = Tensor(Float(stepCount))
        state["lr"] = Tensor(learningRate)
        for (name, value) in savedScalars.sorted(by: { $0.key < $1.key }) { state[name] = Tensor(value) }
        state.integerKeys = ["step"]
        for name in stateSlotNames {
            for (index, values) in stateSlot(name).enumerated() where !values.isEmpty {
                let key = "state.\(index).\(name)"
                let isCounter = counterSlotNames.contains(name)
                state[key] = Tensor(shape: isCounter ? [] : parameters[index].shape, scalars: values)
                if isCounter { state.integerKeys.insert(key) }
            }
        }
        return state
    }

    /// Restores state saved by `stateDict()` for the same parameter list. Validates everything before
    /// changing anything; throws `OptimizerStateError` on a key or shape that does not fit.
    public func load(stateDict state: StateDict) throws {
        guard let step = state["step"], step.count == 1, let lr = state["lr"], lr.count == 1 else {
            throw OptimizerStateError.missingKey("step/lr")
        }
        var known: Set<String> = ["step", "lr"]
        var scalars: [String: Float] = [:]
        for name in savedScalars.keys {
            guard let t = state[name], t.count == 1 else { throw OptimizerStateError.missingKey(name) }
            scalars[name] = t.item
            known.insert(name)
        }
        var slots: [String: [[Float]]] = [:]
        for name in stateSlotNames {
            var values = [[Float]](repeating: [], count: parameters.count)
            for (index, parameter) in parameters.enumerated() {
                let key = "state.\(index).\(name)"
                guard let t = state[key] else { continue }
                let expected = counterSlotNames.contains(name) ? [] : parameter.shape
                guard t.shape == expected else {
                    throw OptimizerStateError.shapeMismatch(key: key, expected: expected, found: t.shape)
                }
                values[index] = t.scalars
                known.insert(key)
            }
            slots[name] = values
        }
        let unexpected = state.keys.filter { !known.contains($0) }
        if !unexpected.isEmpty { throw OptimizerStateError.unexpectedKeys(unexpected) }
        stepCount = Int(step.item)
        learningRate = lr.item
        savedScalars = scalars
        for (name, values) in slots { setStateSlot(name, values) }
    }
}

/// Why saved optimizer state does not fit an optimizer.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    case missingKey(String)
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missingKey(let key): return "optimizer state lacks \(key)"
        case .unexpectedKeys(let keys): return "optimizer state has unexpected keys: \(keys.joined(separator: ", "))"
        case let .shapeMismatch(key, expected, found):
            return "optimizer state \(key) has shape \(found), parameter has \(expected)"
        }
    }
}
