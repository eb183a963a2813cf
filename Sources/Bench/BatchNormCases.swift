import Core

/// The distinct BatchNorm2d inputs of ResNet18 at batch 32: after the stem (before max-pool) and at each
/// stage's resolution; `(stage, channels, size)`.
func resNetBatchNormShapes(input: Int) -> [(String, Int, Int)] {
    var size = (input + 2 * 3 - 7) / 2 + 1
    var shapes = [("stem", 64, size)]
    size = (size + 2 - 3) / 2 + 1
    shapes.append(("l1", 64, size))
    for (stage, channels) in [(2, 128), (3, 256), (4, 512)] {
        size = (size + 2 - 3) / 2 + 1
        shapes.append(("l\(stage)", channels, size))
    }
    return shapes
}

/// `batchnorm-fwd-<net input>-<stage>-<channels>`: training-mode forward (statistics, normalisation, running
/// update); `batchnorm-bwd-...`: its backward (input, weight and bias gradients).
let batchNormCases: [BenchCase] = [64, 150].flatMap { input in
    resNetBatchNormShapes(input: input).flatMap { stage, channels, size -> [BenchCase] in
        let suffix = "\(input)-\(stage)-\(channels)"
        func make() -> (Tensor, Tensor, Tensor, Tensor, Tensor) {
            (benchTensor([convBatch, channels, size, size], seed: 6, requiresGrad: true),
             benchTensor([channels], seed: 7, requiresGrad: true), benchTensor([channels], seed: 8, requiresGrad: true),
             Tensor.zeros([channels]), Tensor.ones([channels]))
        }
        let forward = BenchCase(name: "batchnorm-fwd-" + suffix, images: convBatch) {
            let (x, w, b, rm, rv) = make()
            return { _ = x.batchNorm(runningMean: rm, runningVariance: rv, weight: w, bias: b, mode: .training) }
        }
        let backward = BenchCase(name: "batchnorm-bwd-" + suffix, images: convBatch) {
            let (x, w, b, rm, rv) = make()
            let y = x.batchNorm(runningMean: rm, runningVariance: rv, weight: w, bias: b, mode: .training)
            let seed = benchTensor(y.shape, seed: 9)
            return {
                x.grad = nil; w.grad = nil; b.grad = nil
                y.backward(seed)
            }
        }
        return [forward, backward]
    }
}
