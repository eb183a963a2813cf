import Core
import Foundation
import TestSupport
import Testing

@Suite struct LossTests {
    let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 1, -1, 0], requiresGrad: true)

    @Test func crossEntropyValues() {
        // F.cross_entropy(torch.tensor([[1.,2,3],[1,-1,0]]), torch.tensor([2,1]), reduction='none')
        //   -> [0.4076059, 2.4076059]
        let none = crossEntropy(logits: logits, labels: [2, 1], reduction: .none)
        #expect(none.shape == [2])
        expectClose(none.scalars, [0.4076059, 2.4076059])
        expectClose([crossEntropy(logits: logits, labels: [2, 1]).item], [1.4076059])
        expectClose([crossEntropy(logits: logits, labels: [2, 1], reduction: .sum).item], [2.8152118])
    }

    @Test func classWeightsMatchAHandComputation() {
        let weights: [Float] = [1, 3, 0.5]
        let labels = [2, 1]
        // By hand, in double precision: l_i = -w[y_i] log softmax(x_i)[y_i]; mean = sum l_i / sum w[y_i].
        var weighted = 0.0, weightSum = 0.0
        for (i, y) in labels.enumerated() {
            let row = (0..<3).map { Double(logits.scalars[i * 3 + $0]) }
            let logZ = Foundation.log(row.reduce(0) { $0 + Foundation.exp($1) })
            weighted += Double(weights[y]) * (logZ - row[y])
            weightSum += Double(weights[y])
        }
        // = (0.5 * 0.4076059 + 3 * 2.4076059) / 3.5 = 2.1218917
        let mean = crossEntropy(logits: logits, labels: labels, classWeights: weights)
        #expect(Swift.abs(Double(mean.item) - weighted / weightSum) < 1e-6)
        #expect(Swift.abs(mean.item - 2.1218917) < 1e-6)
        let none = crossEntropy(logits: logits, labels: labels, classWeights: weights, reduction: .none)
        expectClose(none.scalars, [0.5 * 0.4076059, 3 * 2.4076059])
        let sum = crossEntropy(logits: logits, labels: labels, classWeights: weights, reduction: .sum)
        #expect(Swift.abs(Double(sum.item) - weighted) < 1e-5)
    }

    @Test func crossEntropyGradients() {
        let x = testTensor([4, 5], seed: 71, low: -2, high: 2)
        let labels = [0, 4, 2, 4]
        for reduction in [Reduction.mean, .sum, .none] {
            #expect(gradientCheckError([x]) { crossEntropy(logits: $0[0], labels: labels, reduction: reduction) } < gradientTolerance)
            #expect(gradientCheckError([x]) {
                crossEntropy(logits: $0[0], labels: labels, classWeights: [0.2, 1, 2, 0.5, 3], reduction: reduction)
            } < gradientTolerance)
        }
        // Analytic form: d mean / dx_i = w[y_i] (softmax(x_i) - onehot(y_i)) / sum w.
        let y = Tensor(shape: [1, 3], scalars: [1, 2, 3], requiresGrad: true)
        crossEntropy(logits: y, labels: [0]).backward()
        expectClose(y.grad!.scalars, [0.0900306 - 1, 0.2447285, 0.6652409])
    }

    @Test func softTargets() {
        let x = testTensor([3, 4], seed: 72, low: -2, high: 2)
        let hard = crossEntropy(logits: x, labels: [1, 3, 0], reduction: .none)
        let soft = crossEntropy(logits: x, targetProbabilities: Tensor.oneHot([1, 3, 0], classCount: 4), reduction: .none)
        expectClose(soft.scalars, hard.scalars)
        // F.cross_entropy(torch.tensor([[1.,2,3]]), torch.tensor([[0.2,0.3,0.5]])) -> 1.1076059
        // (= 0.2 * 2.4076059 + 0.3 * 1.4076059 + 0.5 * 0.4076059)
        let one = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        expectClose([crossEntropy(logits: one, targetProbabilities: Tensor(shape: [1, 3], scalars: [0.2, 0.3, 0.5])).item], [1.1076059])
        let t = testTensor([3, 4], seed: 73, low: 0, high: 1).softmax().detached()
        t.requiresGrad = true
        for reduction in [Reduction.mean, .sum, .none] {
            #expect(gradientCheckError([x, t]) { crossEntropy(logits: $0[0], targetProbabilities: $0[1], reduction: reduction) } < gradientTolerance)
        }
    }

    @Test func meanSquaredError() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 2], scalars: [1, 0, 4, 2])
        #expect(mseLoss(a, b).item == 2.25)  // (0 + 4 + 1 + 4) / 4
        #expect(mseLoss(a, b, reduction: .sum).item == 9)
        #expect(mseLoss(a, b, reduction: .none).scalars == [0, 4, 1, 4])
        let x = testTensor([3, 4], seed: 74), y = testTensor([3, 4], seed: 75)
        for reduction in [Reduction.mean, .sum, .none] {
            #expect(gradientCheckError([x, y]) { mseLoss($0[0], $0[1], reduction: reduction) } < gradientTolerance)
        }
    }

    @Test func binaryCrossEntropyOnProbabilities() {
        // F.binary_cross_entropy(torch.tensor([0.2, 0.9]), torch.tensor([0., 1.]), reduction='none')
        //   -> [0.2231435, 0.1053605]
        let p = Tensor(shape: [2], scalars: [0.2, 0.9]), t = Tensor(shape: [2], scalars: [0, 1])
        expectClose(binaryCrossEntropy(probabilities: p, targets: t, reduction: .none).scalars, [0.2231435, 0.1053605])
        expectClose([binaryCrossEntropy(probabilities: p, targets: t).item], [0.1642520])
        // log clamped at -100 as PyTorch: p = 0 with target 1 costs exactly 100, not infinity.
        let saturated = binaryCrossEntropy(probabilities: Tensor(shape: [2], scalars: [0, 1]), targets: Tensor(shape: [2], scalars: [1, 1]), reduction: .none)
        #expect(saturated.scalars == [100, 0])
        let q = testTensor([3, 4], seed: 76, low: 0.1, high: 0.9)
        let target = testTensor([3, 4], seed: 77, low: 0, high: 1)
        for reduction in [Reduction.mean, .sum, .none] {
            #expect(gradientCheckError([q, target], epsilon: 1e-3) {
                binaryCrossEntropy(probabilities: $0[0], targets: $0[1], reduction: reduction)
            } < gradientTolerance)
        }
    }

    @Test func binaryCrossEntropyOnLogits() {
        // F.binary_cross_entropy_with_logits(torch.tensor([-1., 2.]), torch.tensor([0., 1.]), reduction='none')
        //   -> [0.3132617, 0.1269280]
        let x = Tensor(shape: [2], scalars: [-1, 2]), t = Tensor(shape: [2], scalars: [0, 1])
        expectClose(binaryCrossEntropy(logits: x, targets: t, reduction: .none).scalars, [0.3132617, 0.1269280])
        // Far logits stay finite: softplus(100) = 100, softplus(-100) ~ 3.7e-44.
        let far = binaryCrossEntropy(logits: Tensor(shape: [2], scalars: [100, -100]), targets: Tensor(shape: [2], scalars: [0, 0]), reduction: .none)
        #expect(far.scalars[0] == 100 && far.scalars[1] >= 0 && far.scalars[1] < 1e-30)
        // Agrees with the probability form on moderate logits.
        let z = testTensor([3, 4], seed: 78, low: -3, high: 3)
        let target = testTensor([3, 4], seed: 79, low: 0, high: 1)
        expectClose(binaryCrossEntropy(logits: z, targets: target, reduction: .none).scalars,
                    binaryCrossEntropy(probabilities: z.sigmoid(), targets: target, reduction: .none).scalars, 1e-5)
        for reduction in [Reduction.mean, .sum, .none] {
            #expect(gradientCheckError([z, target]) { binaryCrossEntropy(logits: $0[0], targets: $0[1], reduction: reduction) } < gradientTolerance)
        }
    }

    @Test func severalLossesOverOneGraphBothContribute() {
        let input = testTensor([4, 3], seed: 80, requiresGrad: false)
        let w = testTensor([3, 3], seed: 81)
        let target = testTensor([4, 3], seed: 82, requiresGrad: false)
        func losses() -> (Tensor, Tensor) {
            let out = input.matmul(w)
            return (crossEntropy(logits: out, labels: [0, 1, 2, 1]), mseLoss(out.sigmoid(), target))
        }
        let (ce, mse) = losses()
        let gCE = ce.gradients(wrt: [w])[0].scalars, gMSE = mse.gradients(wrt: [w])[0].scalars
        #expect(gCE.contains { $0 != 0 } && gMSE.contains { $0 != 0 })
        let (ce2, mse2) = losses()
        (ce2 + 0.5 * mse2).backward()
        expectClose(w.grad!.scalars, zip(gCE, gMSE).map { $0 + 0.5 * $1 }, 1e-5)
        #expect(gradientCheckError([w]) { let o = input.matmul($0[0]); return crossEntropy(logits: o, labels: [0, 1, 2, 1]) + mseLoss(o.sigmoid(), target) } < gradientTolerance)
    }
}

@Suite struct SimilarityTests {
    @Test func l2NormalizedValues() {
        let x = Tensor(shape: [2, 2], scalars: [3, 4, 0, 0])
        // F.normalize(torch.tensor([[3.,4],[0,0]]), dim=-1) -> [[0.6, 0.8], [0, 0]]
        #expect(x.l2Normalized().scalars == [0.6, 0.8, 0, 0])
        let columns = Tensor(shape: [2, 2], scalars: [3, 0, 4, 2]).l2Normalized(axis: 0)
        expectClose(columns.scalars, [0.6, 0, 0.8, 1])
    }

    @Test func l2NormalizedGradients() {
        let x = testTensor([3, 4, 2], seed: 91)
        for axis in [0, 1, -1] {
            #expect(gradientCheckError([x]) { $0[0].l2Normalized(axis: axis) } < gradientTolerance, "axis \(axis)")
        }
        // Where the clamp is active the norm is the constant epsilon: the gradient is g / epsilon, never nan.
        let zero = Tensor(shape: [1, 3], scalars: [0, 0, 0], requiresGrad: true)
        zero.l2Normalized(epsilon: 0.5).sum().backward()
        #expect(zero.grad!.scalars == [2, 2, 2])
        let tiny = Tensor(shape: [1, 2], scalars: [0.01, -0.02], requiresGrad: true)
        #expect(gradientCheckError([tiny], epsilon: 1e-3) { $0[0].l2Normalized(epsilon: 0.5) } < gradientTolerance)
    }

    @Test func cosineSimilarityValuesAndGradients() {
        // F.cosine_similarity(torch.tensor([[1.,0],[1,2]]), torch.tensor([[1.,1],[-2,1]])) -> [0.7071068, 0.]
        let a = Tensor(shape: [2, 2], scalars: [1, 0, 1, 2]), b = Tensor(shape: [2, 2], scalars: [1, 1, -2, 1])
        let c = cosineSimilarity(a, b)
        #expect(c.shape == [2])
        expectClose(c.scalars, [0.70710678, 0])
        let scaled = cosineSimilarity(a * 7, b * 0.1)
        expectClose(scaled.scalars, c.scalars)
        let x = testTensor([3, 5], seed: 92), y = testTensor([3, 5], seed: 93)
        #expect(gradientCheckError([x, y]) { cosineSimilarity($0[0], $0[1]) } < gradientTolerance)
        #expect(gradientCheckError([x, y]) { cosineSimilarity($0[0], $0[1], axis: 0) } < gradientTolerance)
    }
}
