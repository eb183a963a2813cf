import Foundation

/// SVG figures of a backbone comparison.
public enum ComparisonPlots {
    /// Target accuracy by method: one bar per backbone in each method group at the mean over seeds, ±1 std error bars,
    /// each seed's accuracy as a dot, and per backbone the source-only mean (dashed) and the in-domain ceiling (dotted)
    /// as horizontal reference lines. The legend sits right of the plot, below the title.
    public static func accuracySVG(_ results: ComparisonResults) -> String {
        let methods = results.methods, backbones = results.backbones
        let groupWidth = 110.0, frame = PlotFrame(plotWidth: max(300, groupWidth * Double(methods.count)), plotHeight: 320,
                                                    xRange: 0...Double(max(methods.count, 1)), yRange: 0...100)
        var canvas = SVGCanvas(width: frame.left + frame.plotWidth + 260, height: 440)
        canvas.rect(x: frame.left, y: frame.top, width: frame.plotWidth, height: frame.plotHeight, fill: "none", stroke: "black")
        for tick in stride(from: 0.0, through: 100, by: 20) {
            canvas.line(frame.left - 4, frame.y(tick), frame.left + frame.plotWidth, frame.y(tick), stroke: "#dddddd", width: 0.5)
            canvas.text(String(format: "%.0f", tick), x: frame.left - 8, y: frame.y(tick) + 4, size: 11, anchor: "end")
        }
        let target = results.targetLabel
        canvas.text("\(target) test accuracy by method (\(results.seeds.count) seed\(results.seeds.count == 1 ? "" : "s"))",
                    x: frame.left + frame.plotWidth / 2, y: frame.top - 14, size: 14, anchor: "middle", bold: true)
        canvas.text("accuracy %", x: 18, y: frame.top + frame.plotHeight / 2, size: 12, anchor: "middle", rotate: -90)
        let barWidth = 0.8 / Double(max(backbones.count, 1))
        var legend: [(String, String, String?)] = []
        for (b, backbone) in backbones.enumerated() {
            let color = seriesColors[b % seriesColors.count]
            legend.append((backbone, color, nil))
            if let baseline = results.cell(backbone, "source-only")?.accuracy.mean {
                canvas.line(frame.left, frame.y(baseline), frame.left + frame.plotWidth, frame.y(baseline), stroke: color, width: 1.2, dash: "6 3")
                legend.append(("\(backbone) source-only", color, "6 3"))
            }
            if let ceiling = results.inDomainCeiling?[backbone]?.mean {
                canvas.line(frame.left, frame.y(ceiling), frame.left + frame.plotWidth, frame.y(ceiling), stroke: color, width: 1.2, dash: "2 3")
                legend.append(("\(backbone) in-domain ceiling", color, "2 3"))
            }
        }
        for (m, method) in methods.enumerated() {
            canvas.text(method, x: frame.x(Double(m) + 0.5), y: frame.top + frame.plotHeight + 18, size: 11, anchor: "middle")
            for (b, backbone) in backbones.enumerated() {
                guard let cell = results.cell(backbone, method) else { continue }
                let x0 = Double(m) + 0.1 + Double(b) * barWidth
                let color = seriesColors[b % seriesColors.count]
                canvas.rect(x: frame.x(x0), y: frame.y(cell.accuracy.mean), width: frame.x(x0 + barWidth) - frame.x(x0) - 2,
                            height: frame.y(0) - frame.y(cell.accuracy.mean), fill: color)
                let xc = frame.x(x0 + barWidth / 2) - 1
                if cell.accuracy.count > 1 {
                    let low = frame.y(cell.accuracy.mean - cell.accuracy.std), high = frame.y(cell.accuracy.mean + cell.accuracy.std)
                    canvas.line(xc, low, xc, high, width: 1.5)
                    canvas.line(xc - 4, low, xc + 4, low, width: 1.5)
                    canvas.line(xc - 4, high, xc + 4, high, width: 1.5)
                }
                for run in results.runs where run.backbone == backbone && run.method == method {
                    canvas.circle(x: xc + 7, y: frame.y(run.accuracy), radius: 2.5, fill: "white")
                }
                canvas.text(String(format: "%.1f", cell.accuracy.mean), x: xc, y: frame.y(0) - 6, size: 9, anchor: "middle", fill: "white")
            }
        }
        legend.append(("bar: mean; bar line: ±1 std; dot: one seed", "none", nil))
        EvaluationPlots.drawLegend(&canvas, legend, x: frame.left + frame.plotWidth + 15, y: frame.top + 20)
        return canvas.document
    }

    /// Macro-average one-vs-rest ROC curves of one method, one curve per backbone (first seed), AUC in the legend.
    public static func rocSVG(method: String, curves: [(backbone: String, metrics: ClassificationMetrics)]) -> String {
        let frame = PlotFrame(plotWidth: 400, plotHeight: 400, xRange: 0...1, yRange: 0...1)
        var canvas = SVGCanvas(width: 720, height: 500)
        frame.drawAxes(on: &canvas, title: "\(method): macro ROC on the target test set", xLabel: "false positive rate",
                       yLabel: "true positive rate")
        canvas.line(frame.x(0), frame.y(0), frame.x(1), frame.y(1), stroke: "#999999", dash: "4 4")
        var legend: [(String, String, String?)] = []
        for (i, entry) in curves.enumerated() {
            let color = seriesColors[i % seriesColors.count], roc = entry.metrics.macroROC
            canvas.polyline(zip(roc.falsePositiveRates, roc.truePositiveRates).map { (frame.x($0), frame.y($1)) }, stroke: color, width: 2)
            legend.append(("\(entry.backbone) (macro AUC = \(String(format: "%.3f", entry.metrics.aurocMacro)))", color, nil))
        }
        EvaluationPlots.drawLegend(&canvas, legend, x: frame.left + frame.plotWidth + 15, y: frame.top + 10)
        return canvas.document
    }
}
