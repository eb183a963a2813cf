extension Tensor {
    /// The same values viewed with a new shape; one extent may be -1 and is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot view \(shape) as \(newShape)")
            target[hole] = count / known
        }
        precondition(target.reduce(1, *) == count, "reshape: cannot view \(shape) as \(newShape)")
        let original = shape
        return Tensor.record("reshape", shape: target, scalars: scalars, inputs: [self]) { g in
            [Tensor(shape: original, scalars: g.scalars)]
        }
    }

    /// Collapses every axis after the first: `[N, ...] -> [N, rest]`.
    public func flattened() -> Tensor { reshaped([shape.first ?? 1, -1]) }
}
