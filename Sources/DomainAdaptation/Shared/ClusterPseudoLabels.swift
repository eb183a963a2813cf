import Foundation

/// Pseudo-labels for unlabelled target data from clustering in feature space, as CGDM does (Du et al. 2021,
/// following SHOT, Liang et al. 2020):
///
/// 1. every feature gets a constant 1 appended and is scaled to unit length;
/// 2. initial class centroids are softmax-weighted means, `c_k = sum_i p_ik f_i / sum_i p_ik`;
/// 3. each sample takes the class of the nearest centroid in cosine distance `d_ik = 1 - cos(f_i, c_k)`;
/// 4. one k-means round: centroids become the means of their members, and samples are reassigned.
///
/// (CGDM weighs each pseudo-labelled sample by the confidence of the current prediction, `UDALoss.entropyWeights`.)
public struct ClusterPseudoLabels: Equatable, Sendable {
    /// One class per sample.
    public var labels: [Int]

    public init(labels: [Int]) {
        self.labels = labels
    }

    /// - Parameters:
    ///   - features: `[N][D]` features of the whole target training set.
    ///   - probabilities: `[N][C]` predicted class probabilities for the same samples.
    public init(features: [[Float]], probabilities: [[Float]]) {
        precondition(features.count == probabilities.count && !features.isEmpty,
                     "pseudo-labels: \(features.count) features for \(probabilities.count) predictions")
        let c = probabilities[0].count
        let points: [[Double]] = features.map { f in
            let v = f.map(Double.init) + [1]
            let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return v.map { $0 / norm }
        }
        let soft = probabilities.map { $0.map(Double.init) }
        var centroids = ClusterPseudoLabels.centroids(points, soft, classCount: c)
        let initial = ClusterPseudoLabels.assign(points, centroids)
        let hard = initial.map { y in (0..<c).map { $0 == y ? 1.0 : 0.0 } }
        centroids = ClusterPseudoLabels.centroids(points, hard, classCount: c)
        labels = ClusterPseudoLabels.assign(points, centroids)
    }

    static func centroids(_ points: [[Double]], _ weights: [[Double]], classCount c: Int) -> [[Double]] {
        let dim = points[0].count
        var sums = [[Double]](repeating: [Double](repeating: 0, count: dim), count: c)
        var totals = [Double](repeating: 0, count: c)
        for (p, w) in zip(points, weights) {
            for k in 0..<c where w[k] != 0 {
                totals[k] += w[k]
                for j in 0..<dim { sums[k][j] += w[k] * p[j] }
            }
        }
        return (0..<c).map { k in sums[k].map { $0 / (totals[k] + 1e-8) } }
    }

    /// Nearest centroid in cosine distance; an empty centroid (zero vector) is at distance 1 from everything.
    static func assign(_ points: [[Double]], _ centroids: [[Double]]) -> [Int] {
        let norms = centroids.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        var labels: [Int] = []
        for p in points {
            let d = centroids.indices.map { k -> Double in
                guard norms[k] > 0 else { return 1 }
                var dot = 0.0
                for j in 0..<p.count { dot += p[j] * centroids[k][j] }
                return 1 - dot / norms[k]
            }
            labels.append(d.indices.min { d[$0] < d[$1] }!)
        }
        return labels
    }
}
