import Core
import Foundation

/// Loss terms shared by several methods. All take logits `[N, C]` and are differentiable.
public enum UDALoss {
    /// Mean Shannon entropy of the predicted class distributions, `-(1/N) sum_i sum_c p_ic log p_ic` with
    /// `p = softmax(logits)` (entropy minimisation, Grandvalet & Bengio 2005), computed from the log-softmax so it
    /// stays finite for saturated predictions.
    public static func entropy(logits: Tensor) -> Tensor {
        let logP = logits.logSoftmax(axis: 1)
        return -(logP.exp() * logP).sum() * (1 / Float(logits.shape[0]))
    }

    /// The entropy term of CGDM (Du et al. 2021; the information-maximisation loss of SHOT, Liang et al. 2020): the mean
    /// conditional entropy minus the entropy of the batch-mean prediction,
    /// `-(1/N) sum_i sum_c p_ic log p_ic + sum_c pbar_c log(pbar_c)` with `pbar = mean_i p_i + 1e-5` (the authors'
    /// constant). Minimising it makes each target prediction confident while keeping the batch spread over the classes,
    /// so entropy minimisation cannot collapse onto one class. Lies in `[-log C, log C]`.
    public static func informationEntropy(logits: Tensor) -> Tensor {
        let average = logits.softmax(axis: 1).mean(axes: [0]) + 1e-5
        return entropy(logits: logits) + (average * average.log()).sum()
    }

    /// CGDM's per-sample confidence weights for the pseudo-label cross-entropy (Du et al. 2021): `w_i = 1 + exp(-H_i)`
    /// with `H_i` the entropy of `softmax(logits_i)`, normalised to mean 1 over the batch (the authors normalise to
    /// sum 1; the extra factor `N` keeps the weighted loss an average whose size does not depend on the batch size).
    /// Constants: no gradient flows through the weights.
    public static func entropyWeights(logits: Tensor) -> [Float] {
        let h = withoutGradient { () -> [Float] in
            let logP = logits.logSoftmax(axis: 1)
            return (-(logP.exp() * logP)).sum(axes: [1]).scalars
        }
        let raw = h.map { 1 + Foundation.exp(-$0) }
        let scale = Float(raw.count) / raw.reduce(0, +)
        return raw.map { $0 * scale }
    }

    /// The classifier discrepancy of Saito et al. 2018 (MCD), used by CGDM: the mean absolute difference of the two
    /// classifiers' softmax outputs, `(1/(N C)) sum |softmax(a) - softmax(b)|`.
    public static func classifierDiscrepancy(_ a: Tensor, _ b: Tensor) -> Tensor {
        (a.softmax(axis: 1) - b.softmax(axis: 1)).abs().mean()
    }

    /// Cross-entropy of logits against hard pseudo-labels, each sample weighted: `(1/N) sum_i w_i CE_i`
    /// (the weighted cross-entropy of CGDM; weights are constants).
    public static func weightedCrossEntropy(logits: Tensor, labels: [Int], weights: [Float]) -> Tensor {
        precondition(weights.count == labels.count, "weightedCrossEntropy: \(weights.count) weights for \(labels.count) labels")
        let perSample = crossEntropy(logits: logits, labels: labels, reduction: .none)
        return (perSample * Tensor(shape: [weights.count], scalars: weights)).mean()
    }

    /// Cross-entropy averaged over all samples with a 0/1 mask: `(1/N) sum_i m_i CE_i` (AdaMatch's target loss;
    /// masked samples still count in the denominator, as in the paper).
    public static func maskedCrossEntropy(logits: Tensor, labels: [Int], mask: [Bool]) -> Tensor {
        weightedCrossEntropy(logits: logits, labels: labels, weights: mask.map { $0 ? 1 : 0 })
    }
}
