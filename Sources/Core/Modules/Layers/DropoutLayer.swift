/// Dropout (Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", JMLR 2014):
/// in training, zeroes each element with probability `probability` and scales the rest by `1 / (1 - p)`;
/// in evaluation mode it is the identity. Any shape.
///
/// The layer owns a seeded generator drawn from the one given at construction, so masks are reproducible.
public final class Dropout: Layer {
    public let probability: Float
    private var _generator: SeededGenerator

    public init(probability: Float = 0.5, generator: inout SeededGenerator) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        _generator = generator.derived(stream: generator.next())
        super.init()
    }

    private init(probability: Float, state: SeededGenerator) {
        self.probability = probability
        _generator = state
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return input }
        return input.dropout(probability: probability, generator: &_generator)
    }

    /// A copy continues from this layer's generator state (same future masks).
    public override func makeCopy() -> Module { Dropout(probability: probability, state: _generator) }
}
