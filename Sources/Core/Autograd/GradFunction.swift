import Foundation

/// One entry of the define-by-run tape: the inputs an op read and the rule that maps the gradient of its
/// output to gradients of those inputs (nil where an input needs none).
final class GradFunction {
    let name: String
    let inputs: [Tensor]
    let backward: (Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether operations are recorded on the tape. Scoped per task/thread with `withoutGradient`.
public enum GradientMode {
    @TaskLocal static var isEnabled = true

    /// Whether operations run now are recorded for backward.
    public static var isRecording: Bool { isEnabled }
}

/// Runs `body` without recording operations (inference, EMA updates, metrics).
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Makes the result of an op, recording it on the tape when gradients are enabled and an input needs one.
    /// `backward` receives the output gradient (same shape as the output) and returns one gradient per input.
    static func record(
        _ name: String, shape: [Int], scalars: [Float], inputs: [Tensor],
        backward: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        let result = Tensor(shape: shape, scalars: scalars)
        if GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            result.requiresGrad = true
            result.gradFunction = GradFunction(name: name, inputs: inputs, backward: backward)
        }
        return result
    }

    /// Reverse-mode differentiation from this tensor. Leaves with `requiresGrad` accumulate into `grad`.
    ///
    /// - Parameter seed: the gradient of the final objective with respect to this tensor; defaults to 1 for a
    ///   one-element tensor.
    public func backward(_ seed: Tensor? = nil) {
        let start = seed ?? {
            precondition(count == 1, "backward() without a seed needs a scalar, shape is \(shape)")
            return Tensor(repeating: 1, shape: shape)
        }()
        checkSameShape(self, start, "backward seed")
        guard requiresGrad else { return }
        for (leaf, g) in propagate(from: start) { leaf.accumulateGrad(g) }
    }

    /// Gradients of this scalar with respect to `inputs`, without touching any `grad` field.
    /// Inputs the objective does not depend on get zeros.
    public func gradients(wrt inputs: [Tensor]) -> [Tensor] {
        precondition(count == 1, "gradients(wrt:) needs a scalar objective, shape is \(shape)")
        let found = requiresGrad ? propagate(from: Tensor(repeating: 1, shape: shape), keep: Set(inputs.map(ObjectIdentifier.init))) : []
        var byID: [ObjectIdentifier: Tensor] = [:]
        for (t, g) in found { byID[ObjectIdentifier(t)] = g }
        return inputs.map { byID[ObjectIdentifier($0)] ?? Tensor.zeros($0.shape) }
    }

    /// Adds `g` into this tensor's gradient.
    func accumulateGrad(_ g: Tensor) {
        checkSameShape(self, g, "gradient accumulation")
        if let existing = grad {
            existing.scalars.withUnsafeMutableBufferPointer { dst in
                g.scalars.withUnsafeBufferPointer { src in
                    for i in 0..<dst.count { dst[i] += src[i] }
                }
            }
        } else {
            grad = Tensor(shape: shape, scalars: g.scalars)
        }
    }

    /// Runs the tape backwards. Returns the gradients reaching leaves (or, with `keep`, the tensors listed).
    private func propagate(from start: Tensor, keep: Set<ObjectIdentifier>? = nil) -> [(Tensor, Tensor)] {
        let order = topologicalOrder()
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): start]
        var results: [(Tensor, Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        func collect(_ t: Tensor, _ g: Tensor) {
            let id = ObjectIdentifier(t)
            let wanted = keep.map { $0.contains(id) } ?? (t.gradFunction == nil && t.requiresGrad)
            if wanted, !seen.contains(id) { seen.insert(id); results.append((t, g)) }
        }
        withoutGradient {
            for node in order.reversed() {
                let id = ObjectIdentifier(node)
                guard let g = pending.removeValue(forKey: id) else { continue }
                collect(node, g)
                guard let fn = node.gradFunction else { continue }
                let inputGrads = fn.backward(g)
                precondition(inputGrads.count == fn.inputs.count, "\(fn.name): backward returned wrong count")
                for (input, ig) in zip(fn.inputs, inputGrads) {
                    guard let ig, input.requiresGrad else { continue }
                    checkSameShape(input, ig, "\(fn.name) backward")
                    let iid = ObjectIdentifier(input)
                    if let acc = pending[iid] {
                        acc.scalars.withUnsafeMutableBufferPointer { dst in
                            ig.scalars.withUnsafeBufferPointer { src in
                                for i in 0..<dst.count { dst[i] += src[i] }
                            }
                        }
                    } else {
                        pending[iid] = Tensor(shape: ig.shape, scalars: ig.scalars)  // own box: backward may return one tensor for two inputs
                    }
                }
            }
        }
        return results
    }

    /// Nodes reachable from this tensor, every node after all of its inputs.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            let id = ObjectIdentifier(node)
            if expanded { order.append(node); continue }
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((node, true))
            for input in node.gradFunction?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }
}
