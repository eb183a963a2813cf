/// A receiver operating characteristic curve: false and true positive rates at decreasing score thresholds.
///
/// Points are those of scikit-learn's `roc_curve(..., drop_intermediate=False)`: one point per distinct score
/// (ties move together), preceded by `(0, 0)` at threshold `+inf`.
public struct ROCCurve: Codable, Equatable, Sendable {
    public var falsePositiveRates: [Double]
    public var truePositiveRates: [Double]
    public var thresholds: [Double]

    /// The ROC curve of scores for a binary problem (`isPositive[i]` for sample `i`).
    /// Needs at least one positive and one negative sample.
    public init(scores: [Double], isPositive: [Bool]) {
        precondition(scores.count == isPositive.count, "ROC: \(scores.count) scores for \(isPositive.count) labels")
        let positives = isPositive.filter { $0 }.count, negatives = isPositive.count - positives
        precondition(positives > 0 && negatives > 0, "ROC needs both positive and negative samples")
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        var tp = 0, fp = 0
        for (k, i) in order.enumerated() {
            if isPositive[i] { tp += 1 } else { fp += 1 }
            if k + 1 < order.count, scores[order[k + 1]] == scores[i] { continue }
            fpr.append(Double(fp) / Double(negatives))
            tpr.append(Double(tp) / Double(positives))
            thresholds.append(scores[i])
        }
        falsePositiveRates = fpr
        truePositiveRates = tpr
        self.thresholds = thresholds
    }

    public init(falsePositiveRates: [Double], truePositiveRates: [Double], thresholds: [Double] = []) {
        self.falsePositiveRates = falsePositiveRates
        self.truePositiveRates = truePositiveRates
        self.thresholds = thresholds
    }

    /// Area under the curve by the trapezoidal rule (equals the Mann-Whitney statistic with ties counted half).
    public var area: Double {
        var total = 0.0
        for i in 1..<falsePositiveRates.count {
            total += (falsePositiveRates[i] - falsePositiveRates[i - 1]) * (truePositiveRates[i] + truePositiveRates[i - 1]) / 2
        }
        return total
    }

    /// The true positive rate at `fpr`, linearly interpolated (NumPy `interp`: the last point wins at duplicate x).
    public func truePositiveRate(at fpr: Double) -> Double {
        let xs = falsePositiveRates, ys = truePositiveRates
        if fpr <= xs[0] { return ys[0] }
        guard let hi = xs.firstIndex(where: { $0 > fpr }) else { return ys[ys.count - 1] }
        let lo = hi - 1
        return ys[lo] + (ys[hi] - ys[lo]) * (fpr - xs[lo]) / (xs[hi] - xs[lo])
    }

    /// The macro-average curve of several curves: every curve's TPR interpolated on the union of their FPRs and
    /// averaged (the construction of scikit-learn's multiclass ROC example).
    public static func macroAverage(_ curves: [ROCCurve]) -> ROCCurve {
        let grid = Array(Set(curves.flatMap(\.falsePositiveRates))).sorted()
        let tpr = grid.map { x in curves.map { $0.truePositiveRate(at: x) }.reduce(0, +) / Double(curves.count) }
        return ROCCurve(falsePositiveRates: grid, truePositiveRates: tpr)
    }
}
