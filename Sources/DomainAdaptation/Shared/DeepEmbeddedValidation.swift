import Foundation

/// Deep Embedded Validation (You, Wang, Chen, Long, Jordan, "Towards Accurate Model Selection in Deep Unsupervised
/// Domain Adaptation", ICML 2019): an estimate of the target risk from labelled source validation data, without
/// target labels.
///
/// 1. A logistic-regression domain classifier `d(x) = P(target | x)` is fitted on features of source training images
///    (label 0) and target images (label 1), standardised by their pooled mean and deviation, with an L2 penalty and
///    each domain weighted to half the total (equal priors).
/// 2. Each source validation image gets the density ratio `w_j = d(x_j) / (1 - d(x_j))` (the paper's
///    `(n_s / n_t) d / (1 - d)` with the priors already equalised).
/// 3. With weighted losses `L_j = w_j l_j`, the control variate `eta = -Cov(L, w) / Var(w)` gives the risk
///    `R = mean(L) + eta mean(w) - eta` (lower is better); `eta` removes the variance the weights add.
public enum DeepEmbeddedValidation {
    /// The estimate and what it is made of.
    public struct Estimate: Codable, Equatable, Sendable {
        /// The variance-reduced importance-weighted validation loss.
        public var risk: Double
        /// Mean density ratio over the validation images (1 when the domains are indistinguishable).
        public var meanWeight: Double
        /// Accuracy (fraction) of the domain classifier on the images it was fitted on.
        public var domainAccuracy: Double
    }

    /// - Parameters:
    ///   - sourceFeatures: `[n_s][D]` features of source training images.
    ///   - targetFeatures: `[n_t][D]` features of target images.
    ///   - validationFeatures: `[m][D]` features of labelled source validation images.
    ///   - validationLosses: the `m` per-image losses (cross-entropy of the prediction).
    public static func estimate(sourceFeatures: [[Float]], targetFeatures: [[Float]], validationFeatures: [[Float]],
                                validationLosses: [Double], penalty: Double = 0.1, iterations: Int = 300) -> Estimate {
        precondition(!sourceFeatures.isEmpty && !targetFeatures.isEmpty && validationFeatures.count == validationLosses.count
                     && !validationLosses.isEmpty, "DEV needs source, target and validation features")
        let classifier = DomainClassifier(source: sourceFeatures, target: targetFeatures, penalty: penalty, iterations: iterations)
        let weights = validationFeatures.map { x -> Double in
            let p = min(max(classifier.targetProbability(x), 1e-4), 1 - 1e-4)
            return p / (1 - p)
        }
        let weighted = zip(weights, validationLosses).map { $0 * $1 }
        return Estimate(risk: controlVariateRisk(weightedLosses: weighted, weights: weights),
                        meanWeight: weights.reduce(0, +) / Double(weights.count), domainAccuracy: classifier.trainingAccuracy)
    }

    /// `mean(L) + eta mean(w) - eta` with `eta = -Cov(L, w) / Var(w)` (sample moments; `eta = 0` when `w` is constant).
    public static func controlVariateRisk(weightedLosses: [Double], weights: [Double]) -> Double {
        let m = Double(weights.count)
        let meanL = weightedLosses.reduce(0, +) / m, meanW = weights.reduce(0, +) / m
        var covariance = 0.0, variance = 0.0
        for (l, w) in zip(weightedLosses, weights) {
            covariance += (l - meanL) * (w - meanW)
            variance += (w - meanW) * (w - meanW)
        }
        let eta = variance > 1e-12 ? -covariance / variance : 0
        return meanL + eta * meanW - eta
    }
}

/// L2-penalised logistic regression on standardised features, fitted by full-batch gradient descent.
struct DomainClassifier {
    var mean: [Double], scale: [Double], weights: [Double], bias = 0.0
    var trainingAccuracy = 0.0

    init(source: [[Float]], target: [[Float]], penalty: Double, iterations: Int) {
        let all = source + target
        let labels = [Double](repeating: 0, count: source.count) + [Double](repeating: 1, count: target.count)
        let d = all[0].count, n = Double(all.count)
        mean = (0..<d).map { j in all.reduce(0) { $0 + Double($1[j]) } / n }
        let m = mean
        scale = (0..<d).map { j in
            let v = all.reduce(0) { $0 + (Double($1[j]) - m[j]) * (Double($1[j]) - m[j]) } / n
            return v > 1e-12 ? 1 / v.squareRoot() : 0
        }
        weights = [Double](repeating: 0, count: d)
        let x = all.map { standardized($0) }
        let sampleWeight = labels.map { $0 == 1 ? n / (2 * Double(target.count)) : n / (2 * Double(source.count)) }
        let rate = 0.5
        for _ in 0..<iterations {
            var gradient = [Double](repeating: 0, count: d), gradientBias = 0.0
            for (i, xi) in x.enumerated() {
                let r = sampleWeight[i] * (sigmoid(dot(xi)) - labels[i]) / n
                for j in 0..<d { gradient[j] += r * xi[j] }
                gradientBias += r
            }
            for j in 0..<d { weights[j] -= rate * (gradient[j] + penalty * weights[j]) }
            bias -= rate * gradientBias
        }
        var correct = 0
        for (i, xi) in x.enumerated() where (sigmoid(dot(xi)) >= 0.5) == (labels[i] == 1) { correct += 1 }
        trainingAccuracy = Double(correct) / n
    }

    func standardized(_ f: [Float]) -> [Double] { (0..<f.count).map { (Double(f[$0]) - mean[$0]) * scale[$0] } }
    func dot(_ x: [Double]) -> Double { zip(x, weights).reduce(bias) { $0 + $1.0 * $1.1 } }
    func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    /// `P(target | f)`.
    func targetProbability(_ f: [Float]) -> Double { sigmoid(dot(standardized(f))) }
}
