import Core

/// The cross-domain gradient discrepancy of CGDM (Du et al. 2021, "Cross-Domain Gradient Discrepancy Minimization
/// for Unsupervised Domain Adaptation", CVPR): how differently the source loss and the target pseudo-label loss
/// would move a linear classifier `z = f W^T + b`.
///
/// For a weighted cross-entropy `L = (1/N) sum_i w_i CE(softmax(z_i), y_i)` the parameter gradients are, with
/// `delta_i = w_i (softmax(z_i) - onehot(y_i))`,
///
///     dL/dW = delta^T f / N   ([C, D]),      dL/db = sum_i delta_i / N   ([C]).
///
/// They are written here as ordinary differentiable ops of the features `f` (and logits `z`), so the discrepancy
/// can itself be differentiated with respect to the encoder that produced `f` (no double-backward tape needed).
/// The discrepancy is the mean over the head's two parameter tensors of `1 - cosine similarity`:
/// `((1 - mean_c cos(dW_s[c], dW_t[c])) + (1 - cos(db_s, db_t))) / 2`, a cosine per class row of the weight gradient
/// (averaged) and one for the bias gradient, as the authors' code does; it lies in `[0, 2]`. The target loss is the
/// pseudo-label cross-entropy weighted by `UDALoss.entropyWeights` (held constant here; the authors' code also
/// differentiates through the weights' entropies, a second-order effect the paper does not describe).
public enum GradientDiscrepancy {
    /// The analytic gradients of the weighted cross-entropy of a linear head, as differentiable tensors.
    /// - Parameters:
    ///   - features: `[N, D]` head inputs.
    ///   - logits: `[N, C]` head outputs for those features.
    ///   - labels: `N` classes.
    ///   - weights: optional `N` per-sample weights (default 1).
    /// - Returns: `weight` `[C, D]` and `bias` `[C]`.
    public static func linearHeadGradients(features: Tensor, logits: Tensor, labels: [Int], weights: [Float]? = nil)
        -> (weight: Tensor, bias: Tensor)
    {
        let n = features.shape[0], c = logits.shape[1]
        precondition(logits.shape[0] == n && labels.count == n, "linearHeadGradients: batch sizes differ")
        var delta = logits.softmax(axis: 1) - Tensor.oneHot(labels, classCount: c)
        if let weights {
            precondition(weights.count == n, "linearHeadGradients: \(weights.count) weights for \(n) samples")
            delta = delta * Tensor(shape: [n, 1], scalars: weights)
        }
        let scale = 1 / Float(n)
        return (delta.transposed().matmul(features) * scale, delta.sum(axes: [0]) * scale)
    }

    /// `((1 - mean_c cos(source.weight[c], target.weight[c])) + (1 - cos(source.bias, target.bias))) / 2`.
    public static func discrepancy(source: (weight: Tensor, bias: Tensor), target: (weight: Tensor, bias: Tensor)) -> Tensor {
        let rows = cosineSimilarity(source.weight, target.weight, axis: 1).mean()
        let bias = cosineSimilarity(source.bias.reshaped([1, -1]), target.bias.reshaped([1, -1]), axis: 1).mean()
        return ((1 - rows) + (1 - bias)) * 0.5
    }

    /// The discrepancy for one linear head between a labelled source batch and a pseudo-labelled target batch.
    public static func loss(head: Linear, sourceFeatures: Tensor, sourceLabels: [Int],
                            targetFeatures: Tensor, targetLabels: [Int], targetWeights: [Float]) -> Tensor {
        let gs = linearHeadGradients(features: sourceFeatures, logits: head(sourceFeatures), labels: sourceLabels)
        let gt = linearHeadGradients(features: targetFeatures, logits: head(targetFeatures), labels: targetLabels,
                                     weights: targetWeights)
        return discrepancy(source: gs, target: gt)
    }
}
