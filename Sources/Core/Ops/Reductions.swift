extension Tensor {
    /// Sum of all elements, a rank-0 tensor.
    public func sum() -> Tensor {
        var total: Double = 0
        scalars.withUnsafeBufferPointer { for v in $0 { total += Double(v) } }
        let original = shape
        return Tensor.record("sum", shape: [], scalars: [Float(total)], inputs: [self]) { g in
            [Tensor(repeating: g.scalars[0], shape: original)]
        }
    }

    /// Mean of all elements, a rank-0 tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }
}
