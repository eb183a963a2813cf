import Core

/// Loss terms shared by several methods. All take logits `[N, C]` and are differentiable.
public enum UDALoss {
    /// Mean Shannon entropy of the predicted class distributions, `-(1/N) sum_i sum_c p_ic log p_ic` with
    /// `p = softmax(logits)` (entropy minimisation, Grandvalet & Bengio 2005), computed from the log-softmax so it
    /// stays finite for saturated predictions.
    public static func entropy(logits: Tensor) -> Tensor {
        let logP = logits.logSoftmax(axis: 1)
        return -(logP.exp() * logP).sum() * (1 / Float(logits.shape[0]))
    }

    /// The class-diversity term of the CGDM code (which calls it its entropy loss): the cross-entropy between the uniform
    /// distribution and the batch-mean prediction, `-(1/C) sum_c log(mean_i p_ic + 1e-6)`. It is smallest when the
    /// batch's predictions are spread evenly over the classes, which keeps pseudo-labelling from collapsing onto one class.
    public static func classDiversity(logits: Tensor) -> Tensor {
        -(logits.softmax(axis: 1).mean(axes: [0]) + 1e-6).log().mean()
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
