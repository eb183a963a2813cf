import Foundation

/// Normalisation to unit length and cosine similarity along one axis.
extension Tensor {
    /// `x / max(||x||_2, epsilon)` along `axis` (as `F.normalize(x, p: 2, dim: axis, eps: epsilon)`).
    /// Same shape as the input.
    ///
    /// Backward, with `y` the output and `n` the clamped norm: `dx = (g - y <g, y>) / n` where the norm
    /// exceeds `epsilon`, and `dx = g / epsilon` where the clamp is active (the norm is then a constant).
    public func l2Normalized(axis: Int = -1, epsilon: Float = 1e-12) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "l2Normalized")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        let squares = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i] * x[i] } }
        let norms = Tensor.sumBlocks(squares, outer: outer, n: n, inner: inner).map { Swift.max($0.squareRoot(), epsilon) }
        let clamped = norms.map { $0 <= epsilon }
        let y = Tensor.combineRows(scalars, scalars, norms, outer: outer, n: n, inner: inner) { x, _, s in x / s }
        return Tensor.record("l2Normalized", shape: shape, scalars: y, inputs: [self]) { g in
            let products = Pointwise.map(g.scalars, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } }
            var dots = Tensor.sumBlocks(products, outer: outer, n: n, inner: inner)
            for k in 0..<dots.count {
                if clamped[k] { dots[k] = 0 }
                dots[k] /= norms[k]
            }
            let invNorms = norms.map { 1 / $0 }
            // (g - y <g,y>) / n = g * (1/n) - y * (<g,y>/n), with the per-row factors broadcast along the axis.
            let scaled = Tensor.combineRows(g.scalars, g.scalars, invNorms, outer: outer, n: n, inner: inner) { g, _, s in g * s }
            let correction = Tensor.combineRows(y, y, dots, outer: outer, n: n, inner: inner) { y, _, s in y * s }
            return [Tensor(shape: g.shape, scalars: Pointwise.map(scaled, correction) { a, b, o, r in for i in r { o[i] = a[i] - b[i] } })]
        }
    }
}

/// Cosine similarity along `axis` of two same-shape tensors, as PyTorch 2.x's `F.cosine_similarity`:
/// `<a, b> / (max(||a||, epsilon) max(||b||, epsilon))`, computed as the sum of the products of the two
/// L2-normalised inputs. The result drops `axis`.
public func cosineSimilarity(_ a: Tensor, _ b: Tensor, axis: Int = -1, epsilon: Float = 1e-8) -> Tensor {
    checkSameShape(a, b, "cosineSimilarity")
    return (a.l2Normalized(axis: axis, epsilon: epsilon) * b.l2Normalized(axis: axis, epsilon: epsilon)).sum(axes: [axis])
}
