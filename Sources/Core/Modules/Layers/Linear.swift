/// A fully connected layer `y = x W^T + b` (PyTorch `nn.Linear`).
///
/// Input `[..., inputFeatures]`, output `[..., outputFeatures]`; weight `[outputFeatures, inputFeatures]`,
/// bias `[outputFeatures]`. Initialised as PyTorch does: `kaiming_uniform_(a = sqrt(5))` for the weight
/// (uniform in `±1/sqrt(inputFeatures)`) and uniform in `±1/sqrt(inputFeatures)` for the bias.
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let inputFeatures: Int
    public let outputFeatures: Int

    public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true, generator: inout SeededGenerator) {
        precondition(inputFeatures > 0 && outputFeatures > 0,
                     "Linear needs positive feature counts, got \(inputFeatures) -> \(outputFeatures)")
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        weight = Initializer.kaimingUniform([outputFeatures, inputFeatures], generator: &generator)
        self.bias = bias ? Initializer.defaultBias(count: outputFeatures, fanIn: inputFeatures, generator: &generator) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.linear(weight: weight, bias: bias) }

    public override func makeCopy() -> Module {
        var g = SeededGenerator(seed: 0)
        return Linear(inputFeatures: inputFeatures, outputFeatures: outputFeatures, bias: bias != nil, generator: &g)
    }
}

extension Tensor {
    /// `x W^T + b` over the last axis: `[..., in] x [out, in] (+ [out]) -> [..., out]`, one sgemm each way.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2 && rank >= 1 && shape[rank - 1] == weight.shape[1],
                     "linear: input \(shape) does not end with the weight's input size (weight \(weight.shape))")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) for weight \(weight.shape)") }
        let rows = count / Swift.max(inFeatures, 1)
        let x = self
        var out = Tensor.gemm(x.scalars, weight.scalars, m: rows, n: outFeatures, k: inFeatures,
                              transposeA: false, transposeB: true)
        if let bias {
            out.withUnsafeMutableBufferPointer { o in
                bias.scalars.withUnsafeBufferPointer { b in
                    for r in 0..<rows { for j in 0..<outFeatures { o[r * outFeatures + j] += b[j] } }
                }
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Tensor.record("linear", shape: Array(shape.dropLast()) + [outFeatures], scalars: out, inputs: inputs) { g in
            // dX = G W, dW = G^T X, db = column sums of G.
            let gx = x.requiresGrad
                ? Tensor(shape: x.shape, scalars: Tensor.gemm(g.scalars, weight.scalars, m: rows, n: inFeatures, k: outFeatures,
                                                             transposeA: false, transposeB: false)) : nil
            let gw = weight.requiresGrad
                ? Tensor(shape: weight.shape, scalars: Tensor.gemm(g.scalars, x.scalars, m: outFeatures, n: inFeatures, k: rows,
                                                                  transposeA: true, transposeB: false)) : nil
            guard let bias else { return [gx, gw] }
            var gb: Tensor? = nil
            if bias.requiresGrad {
                var sums = [Float](repeating: 0, count: outFeatures)
                sums.withUnsafeMutableBufferPointer { s in
                    g.scalars.withUnsafeBufferPointer { gp in
                        for r in 0..<rows { for j in 0..<outFeatures { s[j] += gp[r * outFeatures + j] } }
                    }
                }
                gb = Tensor(shape: [outFeatures], scalars: sums)
            }
            return [gx, gw, gb]
        }
    }
}
