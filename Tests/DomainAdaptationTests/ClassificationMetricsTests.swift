import DomainAdaptation
import Foundation
import Testing

/// Checks the metrics against scikit-learn 1.9.1 values produced once by `scripts/metrics_reference.py`
/// (fixture `Fixtures/metrics_reference.json` holds the inputs and the expected outputs). Scores there are rounded to
/// two decimals, so the ROC code's handling of tied scores is exercised. AUCs are sums of at most a few hundred
/// trapezoids in double precision: 1e-12 absolute tolerance.
@Suite struct ClassificationMetricsTests {
    struct Reference: Decodable {
        struct Curve: Decodable { let fpr: [Double]; let tpr: [Double] }
        let probabilities: [[Double]]
        let labels: [Int]
        let accuracy_percent: Double
        let confusion_matrix: [[Int]]
        let per_class_auroc: [Double]
        let auroc_macro: Double
        let auroc_micro: Double
        let roc_curves: [Curve]
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixtureURL("metrics_reference.json")))
    }

    @Test func matchesScikitLearn() throws {
        let r = try reference()
        let m = ClassificationMetrics(probabilities: r.probabilities, labels: r.labels)
        #expect(abs(m.accuracy - r.accuracy_percent) < 1e-9)
        #expect(m.confusionMatrix == r.confusion_matrix)
        for k in 0..<3 { #expect(abs(m.perClassAUROC[k]! - r.per_class_auroc[k]) < 1e-12) }
        #expect(abs(m.aurocMacro - r.auroc_macro) < 1e-12)
        #expect(abs(m.aurocMicro - r.auroc_micro) < 1e-12)
        for k in 0..<3 {
            let curve = try #require(m.rocCurves[k])
            #expect(curve.falsePositiveRates.count == r.roc_curves[k].fpr.count)
            for (a, b) in zip(curve.falsePositiveRates, r.roc_curves[k].fpr) { #expect(abs(a - b) < 1e-12) }
            for (a, b) in zip(curve.truePositiveRates, r.roc_curves[k].tpr) { #expect(abs(a - b) < 1e-12) }
        }
    }

    @Test func perfectAndReversedScores() {
        let perfect = ROCCurve(scores: [0.9, 0.8, 0.2, 0.1], isPositive: [true, true, false, false])
        #expect(perfect.area == 1)
        let reversed = ROCCurve(scores: [0.9, 0.8, 0.2, 0.1], isPositive: [false, false, true, true])
        #expect(reversed.area == 0)
        let tied = ROCCurve(scores: [0.5, 0.5, 0.5, 0.5], isPositive: [true, false, true, false])
        #expect(tied.area == 0.5)
        #expect(tied.falsePositiveRates == [0, 1])
    }

    @Test func jsonRoundTripAndPlots() throws {
        let r = try reference()
        let m = ClassificationMetrics(probabilities: r.probabilities, labels: r.labels, classNames: ["a", "b", "c"])
        let dir = temporaryDirectory()
        let url = dir.appendingPathComponent("metrics.json")
        try m.write(to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"auroc_macro\""))
        #expect(text.contains("\"accuracy\""))
        #expect(try ClassificationMetrics.read(from: url) == m)
        let cm = EvaluationPlots.confusionMatrixSVG(m.confusionMatrix, classNames: m.classNames)
        #expect(cm.hasPrefix("<svg") && cm.contains(">\(m.confusionMatrix[0][0])<") && cm.contains("%</text>"))
        let roc = EvaluationPlots.rocSVG(m)
        #expect(roc.contains(String(format: "AUC = %.3f", m.perClassAUROC[0]!)) && roc.contains("macro average"))
        let curves = EvaluationPlots.trainingCurvesSVG([
            EpochRecord(epoch: 1, losses: ["ce": 1.0], validationAccuracy: 50, seconds: 1),
            EpochRecord(epoch: 2, losses: ["ce": 0.5], validationAccuracy: 70, seconds: 1, diagnosticTargetAccuracy: 40),
            EpochRecord(epoch: 3, losses: ["ce": 0.4], validationAccuracy: 72, seconds: 1, diagnosticTargetAccuracy: 45),
        ])
        #expect(curves.contains("<polyline") && curves.contains("held-out source") && curves.contains("diagnostic only"))
        // Whole-number epoch ticks only: 1, 2, 3 under each panel, no 1.4 or 2.6.
        #expect(curves.contains(">2</text>") && !curves.contains(">1.4</text>") && !curves.contains(">2.6</text>"))
    }
}
