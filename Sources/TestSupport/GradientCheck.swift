import Core

/// The largest difference between two arrays relative to the larger of their max-norms (0 when both are 0).
public func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) elements")
    var diff = 0.0, scale = 0.0
    for i in 0..<a.count {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(a[i])), abs(Double(b[i])))
    }
    return scale == 0 ? 0 : diff / scale
}

/// Compares the tape's gradient of `f` with central finite differences, for every input that requires grad.
///
/// The objective is `sum(f(inputs) * w)` with fixed pseudo-random weights `w`, so every output element is
/// checked. Differences are taken in float32 with step `epsilon` (default 1e-2 relative to the input scale);
/// float32 round-off then contributes about 1e-7 * |objective| / epsilon, and truncation O(epsilon^2), which is
/// why the returned error is compared against a few times 1e-3 rather than machine epsilon.
///
/// - Returns: the largest error over all inputs, `max|analytic - numeric| / max(1, max|numeric|)`.
public func gradientCheckError(
    _ inputs: [Tensor], epsilon: Float = 1e-2, _ f: ([Tensor]) -> Tensor
) -> Double {
    let probe = withoutGradient { f(inputs) }
    var weights = [Float](repeating: 0, count: probe.count)
    var state: UInt64 = 0x9E3779B97F4A7C15
    for i in 0..<weights.count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        weights[i] = Float(Int((state >> 40) % 2001) - 1000) / 1000
    }
    let w = Tensor(shape: probe.shape, scalars: weights)
    func objective() -> Double {
        let out = withoutGradient { f(inputs) }
        var total = 0.0
        for i in 0..<out.count { total += Double(out.scalars[i]) * Double(weights[i]) }
        return total
    }
    for t in inputs { t.grad = nil }
    (f(inputs) * w).sum().backward()
    var worst = 0.0
    for t in inputs where t.requiresGrad {
        let analytic = t.grad?.scalars ?? [Float](repeating: 0, count: t.count)
        var numeric = [Float](repeating: 0, count: t.count)
        for i in 0..<t.count {
            let original = t.scalars[i]
            t.scalars[i] = original + epsilon
            let up = objective()
            t.scalars[i] = original - epsilon
            let down = objective()
            t.scalars[i] = original
            numeric[i] = Float((up - down) / (2 * Double(epsilon)))
        }
        let scale = max(1, numeric.map { abs(Double($0)) }.max() ?? 0)
        for i in 0..<t.count {
            worst = max(worst, abs(Double(analytic[i]) - Double(numeric[i])) / scale)
        }
    }
    return worst
}

/// A deterministic tensor of uniform values in `[low, high)` for tests.
public func testTensor(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1, requiresGrad: Bool = true) -> Tensor {
    var state = seed &* 0x9E3779B97F4A7C15 | 1
    let n = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        values[i] = low + (high - low) * Float(state >> 40) / Float(1 << 24)
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
}
