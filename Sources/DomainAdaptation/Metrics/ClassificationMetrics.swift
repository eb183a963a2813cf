import Foundation

/// Evaluation of a classifier's class probabilities against true labels: accuracy, confusion matrix,
/// one-vs-rest ROC curves and AUCs per class, and their macro and micro averages (DeepLense reference metrics).
///
/// Definitions match scikit-learn: `auroc_macro` is `roc_auc_score(y, p, multi_class="ovr", average="macro")`,
/// the unweighted mean of the per-class one-vs-rest AUCs; `auroc_micro` is the AUC of all `N * C` (one-hot label,
/// score) pairs pooled, `roc_auc_score(label_binarize(y), p, average="micro")`.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    /// Percentage of correct argmax predictions, 0...100.
    public var accuracy: Double
    /// Mean of per-class one-vs-rest AUCs (classes absent from the labels are skipped).
    public var aurocMacro: Double
    /// AUC of the pooled one-vs-rest problem.
    public var aurocMicro: Double
    /// One-vs-rest AUC per class (NaN-free: a class without positives or negatives gets nil).
    public var perClassAUROC: [Double?]
    /// `confusionMatrix[true][predicted]` counts.
    public var confusionMatrix: [[Int]]
    public var classNames: [String]
    public var sampleCount: Int
    /// One-vs-rest ROC curve per class (nil where undefined).
    public var rocCurves: [ROCCurve?]
    /// Macro-average ROC curve for plotting.
    public var macroROC: ROCCurve

    enum CodingKeys: String, CodingKey {
        case accuracy
        case aurocMacro = "auroc_macro"
        case aurocMicro = "auroc_micro"
        case perClassAUROC = "per_class_auroc"
        case confusionMatrix = "confusion_matrix"
        case classNames = "class_names"
        case sampleCount = "sample_count"
        case rocCurves = "roc_curves"
        case macroROC = "macro_roc"
    }

    /// - Parameters:
    ///   - probabilities: `[N][C]` class scores (softmax outputs); only their order matters for the AUCs.
    ///   - labels: `N` true classes in `0..<C`.
    public init(probabilities: [[Double]], labels: [Int], classNames: [String]? = nil) {
        precondition(probabilities.count == labels.count && !labels.isEmpty,
                     "metrics: \(probabilities.count) predictions for \(labels.count) labels")
        let c = probabilities[0].count
        precondition(probabilities.allSatisfy { $0.count == c }, "metrics: rows of different class counts")
        self.classNames = classNames ?? (0..<c).map { "class \($0)" }
        sampleCount = labels.count
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
        var correct = 0
        for (p, y) in zip(probabilities, labels) {
            let predicted = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
            matrix[y][predicted] += 1
            if predicted == y { correct += 1 }
        }
        confusionMatrix = matrix
        accuracy = 100 * Double(correct) / Double(labels.count)
        var curves: [ROCCurve?] = []
        for k in 0..<c {
            let positive = labels.map { $0 == k }
            let defined = positive.contains(true) && positive.contains(false)
            curves.append(defined ? ROCCurve(scores: probabilities.map { $0[k] }, isPositive: positive) : nil)
        }
        rocCurves = curves
        perClassAUROC = curves.map { $0?.area }
        let defined = perClassAUROC.compactMap { $0 }
        aurocMacro = defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
        let pooled = ROCCurve(scores: probabilities.flatMap { $0 },
                              isPositive: labels.flatMap { y in (0..<c).map { $0 == y } })
        aurocMicro = pooled.area
        macroROC = ROCCurve.macroAverage(curves.compactMap { $0 })
    }

    /// Writes the metrics as pretty-printed JSON with sorted keys.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        try encoder.encode(self).writeAtomically(to: url)
    }

    /// Reads metrics written by `write(to:)`.
    public static func read(from url: URL) throws -> ClassificationMetrics {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(ClassificationMetrics.self, from: Data(contentsOf: url))
    }
}
