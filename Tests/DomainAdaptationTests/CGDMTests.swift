import Backbones
import Core
import DomainAdaptation
import Foundation
import Testing
import TestSupport

@Suite struct CGDMTests {
    /// The analytic head gradient equals what autograd computes for the weighted cross-entropy's parameters.
    /// Both are float32 sums of a handful of O(1) terms: 1e-5 relative.
    @Test func analyticHeadGradientMatchesAutograd() {
        var g = SeededGenerator(seed: 4)
        let head = Linear(inputFeatures: 5, outputFeatures: 3, generator: &g)
        let f = testTensor([6, 5], seed: 9, requiresGrad: false)
        let labels = [0, 2, 1, 1, 0, 2]
        let weights: [Float] = [0.3, 1, 0.5, 0.9, 0.2, 0.7]
        let analytic = GradientDiscrepancy.linearHeadGradients(features: f, logits: head(f), labels: labels, weights: weights)
        head.zeroGrad()
        UDALoss.weightedCrossEntropy(logits: head(f), labels: labels, weights: weights).backward()
        #expect(relativeError(analytic.weight.scalars, head.weight.grad!.scalars) < 1e-5)
        #expect(relativeError(analytic.bias.scalars, head.bias!.grad!.scalars) < 1e-5)
    }

    /// Value: identical source and target batches have identical gradients, so the discrepancy is 0; opposite
    /// gradients give the maximum 2 (the mean of two `1 - cos` terms with cosines of -1).
    @Test func discrepancyValue() {
        var g = SeededGenerator(seed: 5)
        let head = Linear(inputFeatures: 4, outputFeatures: 3, generator: &g)
        let f = testTensor([5, 4], seed: 2, requiresGrad: false)
        let y = [0, 1, 2, 1, 0]
        let same = GradientDiscrepancy.loss(head: head, sourceFeatures: f, sourceLabels: y, targetFeatures: f,
                                            targetLabels: y, targetWeights: [Float](repeating: 1, count: 5))
        #expect(abs(same.item) < 1e-5)
        let a = (weight: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), bias: Tensor(shape: [2], scalars: [1, -1]))
        let b = (weight: Tensor(shape: [2, 2], scalars: [-1, -2, -3, -4]), bias: Tensor(shape: [2], scalars: [-1, 1]))
        #expect(abs(GradientDiscrepancy.discrepancy(source: a, target: b).item - 2) < 1e-5)
    }

    /// The gradient of the discrepancy with respect to both feature batches (what reaches the encoder) agrees with
    /// central finite differences. gradientCheckError documents its float32 step and tolerance (a few 1e-3).
    @Test func discrepancyGradientMatchesFiniteDifferences() {
        var g = SeededGenerator(seed: 6)
        let head = Linear(inputFeatures: 4, outputFeatures: 3, generator: &g)
        head.freeze()
        let fs = testTensor([5, 4], seed: 11)
        let ft = testTensor([4, 4], seed: 12)
        let error = gradientCheckError([fs, ft], epsilon: 1e-2) { x in
            GradientDiscrepancy.loss(head: head, sourceFeatures: x[0], sourceLabels: [0, 1, 2, 1, 0],
                                     targetFeatures: x[1], targetLabels: [2, 1, 0, 0], targetWeights: [0.9, 0.4, 0.7, 1])
        }
        #expect(error < 5e-3)
    }

    /// The entropy term: 0 for a batch of uniform predictions (conditional entropy log 3 cancels the diversity term
    /// -log 3) and for a batch collapsed confidently onto one class; about -log 3 (its minimum) for confident
    /// predictions spread evenly over the classes. Logits of +-30 saturate the softmax to within 1e-12, so the only
    /// deviation is the authors' 1e-5 added to the mean prediction, which moves `sum pbar log pbar` by at most
    /// `C * 1e-5 * |log 1e-5|` = 3.5e-4 for `C = 3`: 5e-4 absolute.
    @Test func informationEntropyRewardsConfidentDiversePredictions() {
        let uniform = Tensor(shape: [3, 3], scalars: [Float](repeating: 0, count: 9))
        #expect(abs(UDALoss.informationEntropy(logits: uniform).item) < 5e-4)
        let collapsed = Tensor(shape: [3, 3], scalars: [30, 0, 0, 30, 0, 0, 30, 0, 0])
        #expect(abs(UDALoss.informationEntropy(logits: collapsed).item) < 5e-4)
        let diverse = Tensor(shape: [3, 3], scalars: [30, 0, 0, 0, 30, 0, 0, 0, 30])
        #expect(abs(UDALoss.informationEntropy(logits: diverse).item + Foundation.log(3)) < 5e-4)
    }

    /// Pseudo-label weights `1 + exp(-H)` normalised to mean 1: a confident prediction outweighs a uniform one by
    /// `(1 + 1) / (1 + 1/3)` (H = 0 versus log 3). Float32 arithmetic on O(1) values: 1e-4 relative.
    @Test func entropyWeightsFavourConfidentSamples() {
        let logits = Tensor(shape: [2, 3], scalars: [30, 0, 0, 0, 0, 0])
        let w = UDALoss.entropyWeights(logits: logits)
        #expect(abs(w.reduce(0, +) - 2) < 1e-5)
        #expect(abs(w[0] / w[1] - 2 / (1 + 1.0 / 3)) < 1e-4)
    }

    /// Three well-separated clusters whose predicted probabilities are only weakly informative (and one cluster's
    /// predictions point to the wrong class half the time) are labelled by cluster after one k-means round.
    @Test func pseudoLabelsRecoverClusters() {
        var g = SeededGenerator(seed: 7)
        let centres: [[Float]] = [[4, 0, 0], [0, 4, 0], [0, 0, 4]]
        var features: [[Float]] = [], probabilities: [[Float]] = [], truth: [Int] = []
        for i in 0..<60 {
            let k = i % 3
            features.append(centres[k].map { $0 + g.normal(std: 0.5) })
            var p: [Float] = [0.2, 0.2, 0.2]
            let guess = (k == 2 && i % 2 == 0) ? 0 : k
            p[guess] = 0.6
            probabilities.append(p)
            truth.append(k)
        }
        let pseudo = ClusterPseudoLabels(features: features, probabilities: probabilities)
        #expect(pseudo.labels == truth)
    }
}
