extension Tensor {
    /// max(x, 0).
    public func relu() -> Tensor {
        let x = self
        return Tensor.record("relu", shape: shape, scalars: unaryMap(self) { max($0, 0) }, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: zipMap(g.scalars, x.scalars) { $1 > 0 ? $0 : 0 })]
        }
    }
}
