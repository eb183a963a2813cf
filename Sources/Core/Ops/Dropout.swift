/// Dropout (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, "Dropout: a simple way to
/// prevent neural networks from overfitting"), in the inverted form: kept elements are scaled by
/// `1 / (1 - probability)` so that the expectation is unchanged and evaluation needs no rescaling.
extension Tensor {
    /// Zeroes each element independently with `probability` and scales the rest by `1 / (1 - probability)`.
    /// The mask is drawn from `generator` (one uniform per element, in row-major order), so a seed fixes it.
    /// Always active: a `Dropout` layer calls this only in training mode. Same shape as the input;
    /// the gradient is masked and scaled the same way. `probability == 1` gives zeros.
    public func dropout(probability: Float, generator: inout SeededGenerator) -> Tensor {
        precondition(probability >= 0 && probability <= 1, "dropout: probability \(probability) is outside [0, 1]")
        if probability == 0 { return self }
        let keepScale: Float = probability < 1 ? 1 / (1 - probability) : 0
        var mask = [Float](repeating: 0, count: count)
        for i in 0..<count where generator.nextUniform() >= probability { mask[i] = keepScale }
        let y = Pointwise.map(scalars, mask) { x, m, o, r in for i in r { o[i] = x[i] * m[i] } }
        return Tensor.record("dropout", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, mask) { g, m, o, r in for i in r { o[i] = g[i] * m[i] } })]
        }
    }
}
