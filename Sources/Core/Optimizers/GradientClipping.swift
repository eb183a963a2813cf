/// Rescales the gradients of `parameters` in place so that their global L2 norm is at most `maxNorm`, as
/// PyTorch's `clip_grad_norm_` (Pascanu, Mikolov, Bengio, "On the difficulty of training recurrent neural
/// networks", ICML 2013): with total norm `n = sqrt(sum ||g_i||^2)` (float partial sums over blocks of 4096,
/// accumulated in double precision), every gradient is multiplied by `maxNorm / (n + 1e-6)` when that factor
/// is below 1. Parameters without a gradient are ignored.
///
/// - Returns: the total norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm >= 0, "clipGradientNorm: maxNorm must be >= 0, got \(maxNorm)")
    var sumOfSquares = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        g.scalars.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { sumOfSquares += OptimizerKernels.sumOfSquares(base, count: buffer.count) }
        }
    }
    let total = sumOfSquares.squareRoot()
    let coefficient = Float(Double(maxNorm) / (total + 1e-6))
    if coefficient < 1 {
        for p in parameters {
            guard let g = p.grad else { continue }
            g.scalars.withUnsafeMutableBufferPointer { buffer in
                for i in 0..<buffer.count { buffer[i] *= coefficient }
            }
        }
    }
    return Float(total)
}
