/// What a pooling window reduces to.
public enum PoolingKind: Sendable {
    /// The window's maximum (`Tensor.maxPool2d`).
    case max
    /// The window's mean, padded zeros included (`Tensor.avgPool2d`).
    case average
}

/// Spatial pooling over NCHW images (PyTorch semantics, floor mode).
extension Tensor {
    /// Max or average pooling (`maxPool2d`, `avgPool2d`) over `kernelSize x kernelSize` windows.
    public func pool2d(_ kind: PoolingKind, kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        switch kind {
        case .max: return maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
        case .average: return avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding)
        }
    }

    private func poolGeometry(_ op: String, kernelSize: Int, stride: Int?, padding: Int) -> ConvGeometry {
        precondition(rank == 4, "\(op): input must be [N, C, H, W], got \(shape)")
        precondition(kernelSize > 0 && padding >= 0 && padding <= kernelSize / 2,
                     "\(op): padding \(padding) must be in 0...kernelSize/2 (kernel \(kernelSize))")
        return ConvGeometry(batch: shape[0], inputChannels: shape[1], height: shape[2], width: shape[3],
                            outputChannels: shape[1], kernelHeight: kernelSize, kernelWidth: kernelSize,
                            stride: stride ?? kernelSize, padding: padding)
    }

    /// Max pooling: each output pixel is the maximum of its `kernelSize x kernelSize` window (padding never wins).
    /// The gradient flows to the first maximum of each window, as in PyTorch.
    ///
    /// - Parameters: `stride` defaults to `kernelSize`; `padding <= kernelSize / 2`.
    /// - Returns: `[N, C, Ho, Wo]` with `Ho = (H + 2 * padding - kernelSize) / stride + 1`.
    public func maxPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let g = poolGeometry("maxPool2d", kernelSize: kernelSize, stride: stride, padding: padding)
        let planes = g.batch * g.inputChannels, outCount = planes * g.outputPlane
        var argmax = [Int32](repeating: 0, count: outCount)
        let out = uninitializedFloats(outCount) { y in
            scalars.withUnsafeBufferPointer { x in
                argmax.withUnsafeMutableBufferPointer { a in
                    PoolingKernels.maxForward(x.baseAddress!, g, planes: planes, output: y, argmax: a.baseAddress!)
                }
            }
        }
        let inputShape = shape, inputCount = count
        return Tensor.record("maxPool2d", shape: [g.batch, g.inputChannels, g.outputHeight, g.outputWidth],
                             scalars: out, inputs: [self]) { gradOut in
            let dx = uninitializedFloats(inputCount) { dx in
                gradOut.scalars.withUnsafeBufferPointer { dy in
                    argmax.withUnsafeBufferPointer { a in
                        PoolingKernels.maxBackward(dy.baseAddress!, argmax: a.baseAddress!, g, planes: planes, gradInput: dx)
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Average pooling with PyTorch's default `count_include_pad=True`: every window sum is divided by
    /// `kernelSize^2`, padded zeros included.
    ///
    /// - Parameters: `stride` defaults to `kernelSize`; `padding <= kernelSize / 2`.
    /// - Returns: `[N, C, Ho, Wo]` with `Ho = (H + 2 * padding - kernelSize) / stride + 1`.
    public func avgPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        let g = poolGeometry("avgPool2d", kernelSize: kernelSize, stride: stride, padding: padding)
        let planes = g.batch * g.inputChannels
        let out = uninitializedFloats(planes * g.outputPlane) { y in
            scalars.withUnsafeBufferPointer { x in PoolingKernels.averageForward(x.baseAddress!, g, planes: planes, output: y) }
        }
        let inputShape = shape, inputCount = count
        return Tensor.record("avgPool2d", shape: [g.batch, g.inputChannels, g.outputHeight, g.outputWidth],
                             scalars: out, inputs: [self]) { gradOut in
            let dx = uninitializedFloats(inputCount) { dx in
                gradOut.scalars.withUnsafeBufferPointer { dy in
                    PoolingKernels.averageBackward(dy.baseAddress!, g, planes: planes, gradInput: dx)
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }

    /// Global average pooling: `[N, C, H, W] -> [N, C]`, the mean of each plane (ResNet's final pooling).
    public func globalAvgPool2d() -> Tensor {
        precondition(rank == 4, "globalAvgPool2d: input must be [N, C, H, W], got \(shape)")
        let planes = shape[0] * shape[1], plane = shape[2] * shape[3]
        let scale = 1 / Float(Swift.max(plane, 1))
        let out = uninitializedFloats(planes) { y in
            scalars.withUnsafeBufferPointer { xb in
                let x = xb.baseAddress!
                parallelFor(planes, minimumChunk: 64) { i in
                    y[i] = VectorMath.sum(x + i * plane, count: plane) * scale
                }
            }
        }
        let inputShape = shape, inputCount = count
        return Tensor.record("globalAvgPool2d", shape: [shape[0], shape[1]], scalars: out, inputs: [self]) { gradOut in
            let dx = uninitializedFloats(inputCount) { dx in
                gradOut.scalars.withUnsafeBufferPointer { dy in
                    parallelFor(planes, minimumChunk: 64) { i in
                        (dx + i * plane).update(repeating: dy[i] * scale, count: plane)
                    }
                }
            }
            return [Tensor(shape: inputShape, scalars: dx)]
        }
    }
}
