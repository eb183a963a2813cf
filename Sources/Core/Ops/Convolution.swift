extension Tensor {
    /// 2-D convolution (cross-correlation, PyTorch's `conv2d`), differentiable in input, weight and bias.
    ///
    /// Batched over images; `ConvolutionRouter` chooses the algorithm (im2col + GEMM, Chellapilla et al. 2006, FFTs,
    /// tap-wise GEMMs or direct kernels) per geometry and pass.
    ///
    /// - Parameters:
    ///   - weight: `[Cout, Cin, kh, kw]`.
    ///   - bias: `[Cout]`, added to every output pixel of its channel.
    ///   - stride, padding, dilation: the same on both spatial axes; zero padding.
    /// - Returns: `[N, Cout, Ho, Wo]` for `self` of shape `[N, Cin, H, W]`, with
    ///   `Ho = (H + 2 * padding - dilation * (kh - 1) - 1) / stride + 1` (and likewise `Wo`).
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && shape[1] == weight.shape[1],
                     "conv2d: input \(shape) and weight \(weight.shape) are not [N, Cin, H, W] and [Cout, Cin, kh, kw]")
        if let bias {
            precondition(bias.shape == [weight.shape[0]], "conv2d: bias \(bias.shape) does not match weight \(weight.shape)")
        }
        let g = ConvGeometry(batch: shape[0], inputChannels: shape[1], height: shape[2], width: shape[3],
                             outputChannels: weight.shape[0], kernelHeight: weight.shape[2], kernelWidth: weight.shape[3],
                             stride: stride, padding: padding, dilation: dilation)
        let x = self
        let out = uninitializedFloats(g.batch * g.outputChannels * g.outputPlane) { y in
            x.scalars.withUnsafeBufferPointer { xp in
                weight.scalars.withUnsafeBufferPointer { wp in
                    if let bias {
                        bias.scalars.withUnsafeBufferPointer { bp in
                            ConvolutionRouter.host.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!,
                                                       geometry: g, output: y)
                        }
                    } else {
                        ConvolutionRouter.host.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil,
                                                   geometry: g, output: y)
                    }
                }
            }
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Tensor.record("conv2d", shape: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth],
                             scalars: out, inputs: inputs) { gradOut in
            let grads = Tensor.conv2dGradients(x: x, weight: weight, gradOut: gradOut, geometry: g,
                                               needInput: x.requiresGrad, needWeight: weight.requiresGrad,
                                               needBias: bias?.requiresGrad ?? false)
            return bias == nil ? [grads.input, grads.weight] : [grads.input, grads.weight, grads.bias]
        }
    }

    /// The three conv2d gradients in one pass over the column workspace; nil where not needed.
    static func conv2dGradients(
        x: Tensor, weight: Tensor, gradOut: Tensor, geometry g: ConvGeometry,
        needInput: Bool, needWeight: Bool, needBias: Bool
    ) -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        var dx = needInput ? [Float](unsafeUninitializedCapacity: x.count) { _, n in n = x.count } : []
        var dw = needWeight ? [Float](unsafeUninitializedCapacity: weight.count) { _, n in n = weight.count } : []
        var db = needBias ? [Float](repeating: 0, count: g.outputChannels) : []
        x.scalars.withUnsafeBufferPointer { xp in
            weight.scalars.withUnsafeBufferPointer { wp in
                gradOut.scalars.withUnsafeBufferPointer { gp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dw.withUnsafeMutableBufferPointer { dwp in
                            db.withUnsafeMutableBufferPointer { dbp in
                                ConvolutionRouter.host.backward(
                                    input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: gp.baseAddress!,
                                    geometry: g,
                                    gradInput: needInput ? dxp.baseAddress : nil,
                                    gradWeight: needWeight ? dwp.baseAddress : nil,
                                    gradBias: needBias ? dbp.baseAddress : nil)
                            }
                        }
                    }
                }
            }
        }
        return (needInput ? Tensor(shape: x.shape, scalars: dx) : nil,
                needWeight ? Tensor(shape: weight.shape, scalars: dw) : nil,
                needBias ? Tensor(shape: [g.outputChannels], scalars: db) : nil)
    }
}
