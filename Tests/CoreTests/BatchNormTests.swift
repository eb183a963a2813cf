import Core
import TestSupport
import Testing

/// Float64 reference: per-channel batch mean and biased variance over all axes but axis 1.
private func channelStatistics(_ x: Tensor) -> (mean: [Double], biased: [Double], count: Int) {
    let n = x.shape[0], c = x.shape[1], plane = x.count / (n * c)
    var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
    for ch in 0..<c {
        var values: [Double] = []
        for b in 0..<n { for i in 0..<plane { values.append(Double(x.scalars[(b * c + ch) * plane + i])) } }
        mean[ch] = values.reduce(0, +) / Double(values.count)
        variance[ch] = values.reduce(0) { $0 + ($1 - mean[ch]) * ($1 - mean[ch]) } / Double(values.count)
    }
    return (mean, variance, n * plane)
}

private func normalizeReference(_ x: Tensor, mean: [Double], variance: [Double], weight: Tensor, bias: Tensor, epsilon: Double) -> [Float] {
    let c = x.shape[1], plane = x.count / (x.shape[0] * c)
    return (0..<x.count).map { i in
        let ch = (i / plane) % c
        return Float((Double(x.scalars[i]) - mean[ch]) / (variance[ch] + epsilon).squareRoot()
            * Double(weight.scalars[ch]) + Double(bias.scalars[ch]))
    }
}

@Suite struct BatchNormTests {
    /// Float32 statistics over <= 600 values and one multiply-add per element: ~1e-6 relative; 1e-5 is tight
    /// enough to catch a biased/unbiased mix-up (a 1/M relative change, >= 1e-3 here).
    @Test(arguments: [[4, 3, 5, 6], [3, 5], [2, 2, 7, 7], [6, 4, 1, 1]])
    func batchModesNormalizeWithBiasedBatchVariance(_ shape: [Int]) {
        let x = testTensor(shape, seed: 71, low: -2, high: 3, requiresGrad: false)
        let c = shape[1]
        let weight = testTensor([c], seed: 72, low: 0.5, high: 1.5), bias = testTensor([c], seed: 73)
        let (mean, variance, _) = channelStatistics(x)
        let expected = normalizeReference(x, mean: mean, variance: variance, weight: weight, bias: bias, epsilon: 1e-5)
        for mode in [BatchNormMode.training, .batchStatistics] {
            let rm = Tensor.zeros([c]), rv = Tensor.ones([c])
            let y = x.batchNorm(runningMean: rm, runningVariance: rv, weight: weight, bias: bias, mode: mode)
            #expect(y.shape == shape)
            #expect(relativeError(y.scalars, expected) < 1e-5)
        }
    }

    @Test func trainingUpdatesRunningStatisticsWithUnbiasedVariance() {
        let x = testTensor([4, 3, 2, 5], seed: 74, low: 1, high: 4, requiresGrad: false)
        let (mean, variance, count) = channelStatistics(x)
        let rm = Tensor(shape: [3], scalars: [0.5, -1, 2]), rv = Tensor(shape: [3], scalars: [1, 2, 0.5])
        let rm0 = rm.scalars, rv0 = rv.scalars
        _ = x.batchNorm(runningMean: rm, runningVariance: rv, weight: nil, bias: nil, mode: .training, momentum: 0.3)
        for c in 0..<3 {
            let unbiased = variance[c] * Double(count) / Double(count - 1)
            #expect(abs(Double(rm.scalars[c]) - (0.7 * Double(rm0[c]) + 0.3 * mean[c])) < 1e-5)
            #expect(abs(Double(rv.scalars[c]) - (0.7 * Double(rv0[c]) + 0.3 * unbiased)) < 1e-5)
        }
    }

    @Test func batchStatisticsModeLeavesRunningStatisticsUntouched() {
        let x = testTensor([4, 3, 3, 3], seed: 75, requiresGrad: false)
        let rm = Tensor(shape: [3], scalars: [0.5, -1, 2]), rv = Tensor(shape: [3], scalars: [1, 2, 0.5])
        let a = x.batchNorm(runningMean: rm, runningVariance: rv, weight: nil, bias: nil, mode: .batchStatistics)
        #expect(rm.scalars == [0.5, -1, 2] && rv.scalars == [1, 2, 0.5])
        let b = x.batchNorm(runningMean: rm, runningVariance: rv, weight: nil, bias: nil, mode: .training)
        #expect(a.scalars == b.scalars)
        #expect(rm.scalars != [0.5, -1, 2])
    }

    @Test func inferenceUsesRunningStatistics() {
        let x = testTensor([3, 2, 4, 4], seed: 76, requiresGrad: false)
        let rm = Tensor(shape: [2], scalars: [0.25, -0.5]), rv = Tensor(shape: [2], scalars: [2, 0.5])
        let weight = Tensor(shape: [2], scalars: [1.5, -0.5]), bias = Tensor(shape: [2], scalars: [0.1, 0.2])
        let y = x.batchNorm(runningMean: rm, runningVariance: rv, weight: weight, bias: bias, mode: .inference, epsilon: 1e-3)
        let expected = normalizeReference(x, mean: [0.25, -0.5], variance: [2, 0.5], weight: weight, bias: bias, epsilon: 1e-3)
        #expect(relativeError(y.scalars, expected) < 1e-6)
        #expect(rm.scalars == [0.25, -0.5] && rv.scalars == [2, 0.5])
    }

    @Test func largeMeanDoesNotLoseVariance() {
        // Values 1000 + U(-1, 1): E[x^2] - E[x]^2 in float32 would lose every digit of the variance (~1/3).
        let noise = testTensor([8, 2, 6, 6], seed: 77, requiresGrad: false)
        let x = Tensor(shape: noise.shape, scalars: noise.scalars.map { $0 + 1000 })
        let rm = Tensor.zeros([2]), rv = Tensor.zeros([2])
        _ = x.batchNorm(runningMean: rm, runningVariance: rv, weight: nil, bias: nil, mode: .training, momentum: 1)
        let (_, variance, count) = channelStatistics(x)
        for c in 0..<2 {
            let unbiased = variance[c] * Double(count) / Double(count - 1)
            #expect(abs(Double(rv.scalars[c]) - unbiased) / unbiased < 1e-3)
        }
    }

    /// Finite differences (step 1e-2, float32): batch-norm is smooth; 5e-3 bounds truncation plus round-off for
    /// outputs of order 1 and is far below the O(1) error of a missing mean or variance term.
    @Test(arguments: [[4, 3, 3, 2], [5, 3]])
    func gradientsMatchFiniteDifferencesInEveryMode(_ shape: [Int]) {
        let c = shape[1]
        let x = testTensor(shape, seed: 78, low: -2, high: 2)
        let weight = testTensor([c], seed: 79, low: 0.5, high: 1.5), bias = testTensor([c], seed: 80)
        let rm = Tensor(shape: [c], scalars: (0..<c).map { Float($0) * 0.1 })
        let rv = Tensor(shape: [c], scalars: (0..<c).map { 1 + Float($0) * 0.2 })
        for mode in [BatchNormMode.training, .batchStatistics, .inference] {
            let error = gradientCheckError([x, weight, bias]) {
                $0[0].batchNorm(runningMean: rm, runningVariance: rv, weight: $0[1], bias: $0[2], mode: mode)
            }
            #expect(error < 5e-3, "mode \(mode), shape \(shape)")
        }
        #expect(gradientCheckError([x]) {
            $0[0].batchNorm(runningMean: rm, runningVariance: rv, weight: nil, bias: nil, mode: .batchStatistics)
        } < 5e-3)
    }
}
