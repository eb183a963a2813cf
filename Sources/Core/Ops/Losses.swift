import Foundation

/// How a loss combines its per-element (or per-sample) values, as PyTorch's `reduction` argument.
public enum Reduction: Sendable {
    /// The average (for weighted cross-entropy: the weighted average, divided by the sum of the weights used).
    case mean
    /// The plain sum.
    case sum
    /// No reduction: one value per sample (cross-entropy) or per element (MSE, BCE).
    case none
}

/// Cross-entropy of class logits against integer labels, fused with a numerically stable log-softmax
/// (as `torch.nn.functional.cross_entropy`).
///
/// `logits` is `[N, C]`, `labels` holds N class indices in `0..<C`. The per-sample loss is
/// `l_i = -w[y_i] * log softmax(x_i)[y_i]` with `w` the optional class weights (length C, default all ones).
/// `.mean` divides the sum by `sum_i w[y_i]` (PyTorch's weighted mean, equal to N without weights),
/// `.sum` returns the sum, `.none` returns the `[N]` per-sample losses.
/// Gradient: `dl_i/dx_i = w[y_i] (softmax(x_i) - onehot(y_i))`.
public func crossEntropy(logits: Tensor, labels: [Int], classWeights: [Float]? = nil, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], shape is \(logits.shape)")
    let n = logits.shape[0], c = logits.shape[1]
    precondition(labels.count == n, "crossEntropy: \(labels.count) labels for logits \(logits.shape)")
    precondition(labels.allSatisfy { $0 >= 0 && $0 < c }, "crossEntropy: a label is outside 0..<\(c)")
    if let w = classWeights { precondition(w.count == c, "crossEntropy: \(w.count) class weights for \(c) classes") }
    let weight = labels.map { classWeights?[$0] ?? 1 }
    let logProb = Tensor.softmaxRows(logits.scalars, outer: n, n: c, inner: 1, log: true)
    let perSample = (0..<n).map { -weight[$0] * logProb[$0 * c + labels[$0]] }
    let denominator: Float = reduction == .mean ? weight.reduce(0, +) : 1
    return reduceLoss("crossEntropy", perSample, shape: [n], reduction: reduction, denominator: denominator, inputs: [logits]) { g in
        // g[i] is the gradient reaching sample i (already divided by the mean's denominator).
        var gx = [Float](repeating: 0, count: n * c)
        gx.withUnsafeMutableBufferPointer { d in
            logProb.withUnsafeBufferPointer { lp in
                for i in 0..<n {
                    let scale = g[i] * weight[i]
                    for j in 0..<c { d[i * c + j] = scale * expf(lp[i * c + j]) }
                    d[i * c + labels[i]] -= scale
                }
            }
        }
        return [Tensor(shape: [n, c], scalars: gx)]
    }
}

/// Cross-entropy against soft targets (class probabilities), as `F.cross_entropy` with a probability target:
/// `l_i = -sum_j t_ij log softmax(x_i)_j`, `logits` and `targetProbabilities` both `[N, C]`.
/// `.mean` divides by N. Gradients: `dl_i/dx_i = softmax(x_i) sum_j t_ij - t_i`, `dl_i/dt_ij = -log softmax(x_i)_j`.
public func crossEntropy(logits: Tensor, targetProbabilities: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], shape is \(logits.shape)")
    checkSameShape(logits, targetProbabilities, "crossEntropy (soft targets)")
    let n = logits.shape[0], c = logits.shape[1]
    let logProb = Tensor.softmaxRows(logits.scalars, outer: n, n: c, inner: 1, log: true)
    let t = targetProbabilities.scalars
    let perSample = t.withUnsafeBufferPointer { tb in
        logProb.withUnsafeBufferPointer { lb in
            (0..<n).map { i in -stripDot(tb.baseAddress! + i * c, lb.baseAddress! + i * c, c) }
        }
    }
    return reduceLoss("crossEntropy", perSample, shape: [n], reduction: reduction, denominator: Float(n),
                      inputs: [logits, targetProbabilities]) { g in
        var gx = [Float](repeating: 0, count: n * c), gt = [Float](repeating: 0, count: n * c)
        t.withUnsafeBufferPointer { tb in
            logProb.withUnsafeBufferPointer { lb in
                gx.withUnsafeMutableBufferPointer { xb in
                    gt.withUnsafeMutableBufferPointer { ob in
                        for i in 0..<n {
                            let row = i * c, gi = g[i]
                            let tr = tb.baseAddress! + row, lr = lb.baseAddress! + row
                            let dx = xb.baseAddress! + row, dt = ob.baseAddress! + row
                            let mass = VectorMath.sum(tr, count: c)
                            for j in 0..<c {
                                dx[j] = gi * (expf(lr[j]) * mass - tr[j])
                                dt[j] = -gi * lr[j]
                            }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: [n, c], scalars: gx), targetProbabilities.requiresGrad ? Tensor(shape: [n, c], scalars: gt) : nil]
    }
}

/// Mean squared error `(a - b)^2` elementwise (same shapes), reduced as `reduction` (`.mean` over all elements).
/// Gradients: `2 (a - b)` and `-2 (a - b)`.
public func mseLoss(_ a: Tensor, _ b: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape(a, b, "mseLoss")
    let diff = Pointwise.map(a.scalars, b.scalars) { x, y, o, r in for i in r { o[i] = x[i] - y[i] } }
    let squares = Pointwise.map(diff) { d, o, r in for i in r { o[i] = d[i] * d[i] } }
    return reduceLoss("mseLoss", squares, shape: a.shape, reduction: reduction, denominator: Float(a.count), inputs: [a, b]) { g in
        let ga = Pointwise.map(g, diff) { g, d, o, r in for i in r { o[i] = 2 * g[i] * d[i] } }
        return [Tensor(shape: a.shape, scalars: ga),
                b.requiresGrad ? Tensor(shape: a.shape, scalars: Pointwise.map(ga) { x, o, r in for i in r { o[i] = -x[i] } }) : nil]
    }
}

/// Binary cross-entropy of probabilities `p` against targets `t` in [0, 1] (same shapes), as
/// `F.binary_cross_entropy`: `l = -(t log p + (1 - t) log(1 - p))` with each log clamped at -100 so that
/// p = 0 or 1 gives a finite loss. Gradient: `(p - t) / max(p (1 - p), 1e-12)` for p; `log(1 - p) - log p`
/// (clamped logs) for t.
public func binaryCrossEntropy(probabilities p: Tensor, targets t: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape(p, t, "binaryCrossEntropy")
    let losses = Pointwise.map(p.scalars, t.scalars) { p, t, o, r in
        for i in r { o[i] = -(t[i] * Swift.max(logf(p[i]), -100) + (1 - t[i]) * Swift.max(log1pf(-p[i]), -100)) }
    }
    return reduceLoss("binaryCrossEntropy", losses, shape: p.shape, reduction: reduction, denominator: Float(p.count), inputs: [p, t]) { g in
        let gp = Pointwise.map(g, p.scalars, t.scalars) { g, p, t, o, r in
            for i in r { o[i] = g[i] * (p[i] - t[i]) / Swift.max(p[i] * (1 - p[i]), 1e-12) }
        }
        let gt: Tensor? = t.requiresGrad ? Tensor(shape: t.shape, scalars: Pointwise.map(g, p.scalars) { g, p, o, r in
            for i in r { o[i] = g[i] * (Swift.max(log1pf(-p[i]), -100) - Swift.max(logf(p[i]), -100)) }
        }) : nil
        return [Tensor(shape: p.shape, scalars: gp), gt]
    }
}

/// Binary cross-entropy on logits x (same shapes as targets t), as `F.binary_cross_entropy_with_logits`,
/// in the overflow-free form `l = max(x, 0) - x t + log(1 + e^-|x|)`.
/// Gradients: `sigmoid(x) - t` for x, `-x` for t.
public func binaryCrossEntropy(logits x: Tensor, targets t: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape(x, t, "binaryCrossEntropy")
    let losses = Pointwise.map(x.scalars, t.scalars) { x, t, o, r in
        for i in r { o[i] = Swift.max(x[i], 0) - x[i] * t[i] + log1pf(expf(-x[i].magnitude)) }
    }
    return reduceLoss("binaryCrossEntropy", losses, shape: x.shape, reduction: reduction, denominator: Float(x.count), inputs: [x, t]) { g in
        let gx = Pointwise.map(g, x.scalars, t.scalars) { g, x, t, o, r in for i in r { o[i] = g[i] * (stableSigmoid(x[i]) - t[i]) } }
        let gt: Tensor? = t.requiresGrad ? Tensor(shape: t.shape, scalars: Pointwise.map(g, x.scalars) { g, x, o, r in
            for i in r { o[i] = -g[i] * x[i] }
        }) : nil
        return [Tensor(shape: x.shape, scalars: gx), gt]
    }
}

/// Records a loss from its unreduced values. `backward` receives the gradient of every unreduced value
/// (the output gradient broadcast back and, for `.mean`, divided by `denominator`) and returns input gradients.
func reduceLoss(
    _ name: String, _ values: [Float], shape: [Int], reduction: Reduction, denominator: Float, inputs: [Tensor],
    backward: @escaping ([Float]) -> [Tensor?]
) -> Tensor {
    switch reduction {
    case .none:
        return Tensor.record(name, shape: shape, scalars: values, inputs: inputs) { g in backward(g.scalars) }
    case .sum, .mean:
        let scale: Float = reduction == .mean ? 1 / denominator : 1
        var total: Double = 0
        for v in values { total += Double(v) }
        return Tensor.record(name, shape: [], scalars: [Float(total) * scale], inputs: inputs) { g in
            backward([Float](repeating: g.scalars[0] * scale, count: values.count))
        }
    }
}
