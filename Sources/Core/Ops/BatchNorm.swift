/// Which statistics batch normalisation uses.
public enum BatchNormMode: Sendable {
    /// Batch statistics, and the running statistics are updated (PyTorch `train()`).
    case training
    /// Batch statistics, running statistics untouched (AdaMatch's source+target forward).
    case batchStatistics
    /// Running statistics (PyTorch `eval()`).
    case inference
}

extension Tensor {
    /// Batch normalisation (Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by
    /// Reducing Internal Covariate Shift"): `y = (x - mean) / sqrt(var + epsilon) * weight + bias` per channel.
    ///
    /// Input `[N, C]` or `[N, C, H, W]`; statistics are over every axis but the channel axis. `runningMean`,
    /// `runningVariance`, `weight`, `bias` are `[C]` (nil weight/bias mean 1/0). PyTorch semantics: batch
    /// modes normalise with the biased batch variance; `.training` then updates, in place,
    /// `running = (1 - momentum) * running + momentum * batchStatistic`, using the unbiased variance
    /// (`* M / (M - 1)`, `M = N * H * W`). Differentiable in the input, weight and bias; in the batch modes the
    /// gradient includes the dependence of the statistics on the input.
    public func batchNorm(
        runningMean: Tensor, runningVariance: Tensor, weight: Tensor?, bias: Tensor?, mode: BatchNormMode,
        momentum: Float = 0.1, epsilon: Float = 1e-5
    ) -> Tensor {
        precondition(rank == 2 || rank == 4, "batchNorm: input must be [N, C] or [N, C, H, W], got \(shape)")
        let batch = shape[0], channels = shape[1], plane = rank == 4 ? shape[2] * shape[3] : 1
        for (name, t) in [("runningMean", runningMean), ("runningVariance", runningVariance), ("weight", weight), ("bias", bias)] {
            if let t { precondition(t.shape == [channels], "batchNorm: \(name) \(t.shape) does not match input \(shape)") }
        }
        let reduced = batch * plane
        let useBatch = mode != .inference
        precondition(!useBatch || reduced > 1, "batchNorm: batch statistics need more than one value per channel, input \(shape)")
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        let x = self
        if useBatch {
            x.scalars.withUnsafeBufferPointer { xp in
                mean.withUnsafeMutableBufferPointer { m in
                    variance.withUnsafeMutableBufferPointer { v in
                        BatchNormKernels.statistics(xp.baseAddress!, batch: batch, channels: channels, plane: plane,
                                                    mean: m.baseAddress!, variance: v.baseAddress!)
                    }
                }
            }
        } else {
            mean = runningMean.scalars
            variance = runningVariance.scalars
        }
        let synchronization = useBatch ? BatchNormSynchronization.group.flatMap { $0.isDistributed ? $0 : nil } : nil
        var statisticsCount = reduced
        if let synchronization {
            // global mean and biased variance from each rank's count, sum and sum of squares
            var sums = [Double](repeating: 0, count: 2 * channels + 1)
            let n = Double(reduced)
            for c in 0..<channels {
                let m = Double(mean[c])
                sums[c] = n * m
                sums[channels + c] = n * (Double(variance[c]) + m * m)
            }
            sums[2 * channels] = n
            synchronization.sum(&sums)
            let total = sums[2 * channels]
            for c in 0..<channels {
                let m = sums[c] / total
                mean[c] = Float(m)
                variance[c] = Float(Swift.max(0, sums[channels + c] / total - m * m))
            }
            statisticsCount = Int(total)
        }
        let gamma = weight?.scalars ?? [Float](repeating: 1, count: channels)
        let beta = bias?.scalars ?? [Float](repeating: 0, count: channels)
        let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let scale = (0..<channels).map { gamma[$0] * invStd[$0] }
        let shift = (0..<channels).map { beta[$0] - mean[$0] * scale[$0] }
        let out = uninitializedFloats(count) { y in
            x.scalars.withUnsafeBufferPointer { xp in
                BatchNormKernels.affine(xp.baseAddress!, batch: batch, channels: channels, plane: plane,
                                        scale: scale, shift: shift, output: y)
            }
        }
        if mode == .training {
            let unbias = Float(statisticsCount) / Float(statisticsCount - 1)
            runningMean.assign((0..<channels).map { (1 - momentum) * runningMean.scalars[$0] + momentum * mean[$0] })
            runningVariance.assign((0..<channels).map {
                (1 - momentum) * runningVariance.scalars[$0] + momentum * variance[$0] * unbias
            })
        }
        let inputs = [x] + [weight, bias].compactMap { $0 }
        return Tensor.record("batchNorm", shape: shape, scalars: out, inputs: inputs) { gradOut in
            var sumDy = [Double](repeating: 0, count: channels), sumDyX = [Double](repeating: 0, count: channels)
            gradOut.scalars.withUnsafeBufferPointer { g in
                x.scalars.withUnsafeBufferPointer { xp in
                    BatchNormKernels.gradientSums(g.baseAddress!, xp.baseAddress!, batch: batch, channels: channels, plane: plane,
                                                  sumDy: &sumDy, sumDyX: &sumDyX)
                }
            }
            // sum(dy * xhat) with xhat = (x - mean) * invStd; this rank's share goes to the weight and bias (the
            // optimizer averages those over the ranks), the global sums to the input gradient
            let sumDyXhat = (0..<channels).map { Float((sumDyX[$0] - Double(mean[$0]) * sumDy[$0]) * Double(invStd[$0])) }
            let localSumDy = sumDy
            var globalSumDyXhat = sumDyXhat
            if let synchronization {
                var sums = sumDy + sumDyX
                synchronization.sum(&sums)
                sumDy = Array(sums[0..<channels])
                globalSumDyXhat = (0..<channels).map {
                    Float((sums[channels + $0] - Double(mean[$0]) * sums[$0]) * Double(invStd[$0]))
                }
            }
            var gradInput: Tensor? = nil
            if x.requiresGrad {
                var a = scale, b = [Float](repeating: 0, count: channels), k = [Float](repeating: 0, count: channels)
                if useBatch {
                    let m = Float(statisticsCount)
                    for c in 0..<channels {
                        b[c] = -scale[c] * invStd[c] * globalSumDyXhat[c] / m
                        k[c] = -b[c] * mean[c] - scale[c] * Float(sumDy[c]) / m
                    }
                } else {
                    a = scale
                }
                let dx = uninitializedFloats(x.count) { dx in
                    gradOut.scalars.withUnsafeBufferPointer { g in
                        x.scalars.withUnsafeBufferPointer { xp in
                            BatchNormKernels.combine(g.baseAddress!, xp.baseAddress!, batch: batch, channels: channels,
                                                     plane: plane, a: a, b: b, k: k, output: dx)
                        }
                    }
                }
                gradInput = Tensor(shape: x.shape, scalars: dx)
            }
            var grads: [Tensor?] = [gradInput]
            if let weight { grads.append(weight.requiresGrad ? Tensor(shape: [channels], scalars: sumDyXhat) : nil) }
            if let bias { grads.append(bias.requiresGrad ? Tensor(shape: [channels], scalars: localSumDy.map { Float($0) }) : nil) }
            return grads
        }
    }
}
