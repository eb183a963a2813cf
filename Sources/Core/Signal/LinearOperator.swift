/// A fixed linear map `y = A x` between flat float arrays, with its adjoint `x' = A^T y'`.
///
/// Signal-processing transforms (rotations, flips, steerable filter expansions) are linear, so one
/// differentiable op serves all of them: the gradient of `A x` with respect to `x` is `A^T` applied to the
/// output gradient. Implementations must make `applyAdjoint` the exact transpose of `apply`; the tests of
/// every operator check `<A x, y> = <x, A^T y>`.
public protocol LinearOperator {
    /// Shape of the input tensor.
    var inputShape: [Int] { get }
    /// Shape of the output tensor.
    var outputShape: [Int] { get }
    /// Writes `A x` into `output` (every element is overwritten).
    func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>)
    /// Writes `A^T y` into `output` (every element is overwritten).
    func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>)
}

extension LinearOperator {
    /// `A x` on plain arrays.
    public func apply(_ x: [Float]) -> [Float] {
        precondition(x.count == inputShape.reduce(1, *), "\(type(of: self)): input has \(x.count) values, shape is \(inputShape)")
        var y = [Float](repeating: 0, count: outputShape.reduce(1, *))
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { apply(xp, into: $0) } }
        return y
    }

    /// `A^T y` on plain arrays.
    public func applyAdjoint(_ y: [Float]) -> [Float] {
        precondition(y.count == outputShape.reduce(1, *), "\(type(of: self)): adjoint input has \(y.count) values, shape is \(outputShape)")
        var x = [Float](repeating: 0, count: inputShape.reduce(1, *))
        y.withUnsafeBufferPointer { yp in x.withUnsafeMutableBufferPointer { applyAdjoint(yp, into: $0) } }
        return x
    }
}

extension Tensor {
    /// Applies a linear operator as a differentiable op: the result has `op.outputShape`, and the backward
    /// pass maps the output gradient through `op.applyAdjoint`.
    public func applying<Op: LinearOperator>(_ op: Op, name: String = "linearOperator") -> Tensor {
        precondition(shape == op.inputShape, "\(name): input shape \(shape) does not match the operator's \(op.inputShape)")
        return Tensor.record(name, shape: op.outputShape, scalars: op.apply(scalars), inputs: [self]) { g in
            [Tensor(shape: op.inputShape, scalars: op.applyAdjoint(g.scalars))]
        }
    }
}
