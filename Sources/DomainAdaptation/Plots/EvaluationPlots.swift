import Foundation

/// SVG plots of an evaluation and of a training run.
public enum EvaluationPlots {
    /// The confusion matrix as a heat map; each cell shows the count and the percentage of its true class (row).
    /// Rows are true classes, columns predicted classes.
    public static func confusionMatrixSVG(_ matrix: [[Int]], classNames: [String], title: String = "Confusion matrix") -> String {
        let c = matrix.count, cell = 110.0, left = 130.0, top = 60.0
        var canvas = SVGCanvas(width: left + cell * Double(c) + 40, height: top + cell * Double(c) + 80)
        canvas.text(title, x: left + cell * Double(c) / 2, y: 30, size: 15, anchor: "middle", bold: true)
        for (i, row) in matrix.enumerated() {
            let total = max(row.reduce(0, +), 1)
            for (j, count) in row.enumerated() {
                let share = Double(count) / Double(total)
                let shade = Int(255 - 200 * share)
                let fill = String(format: "#%02x%02xff", shade, shade)
                let x = left + Double(j) * cell, y = top + Double(i) * cell
                canvas.rect(x: x, y: y, width: cell, height: cell, fill: fill, stroke: "#444444")
                let ink = share > 0.55 ? "white" : "black"
                canvas.text("\(count)", x: x + cell / 2, y: y + cell / 2 - 2, size: 16, anchor: "middle", fill: ink, bold: true)
                canvas.text(String(format: "%.1f%%", 100 * share), x: x + cell / 2, y: y + cell / 2 + 18, size: 12,
                            anchor: "middle", fill: ink)
            }
            canvas.text(classNames[i], x: left - 8, y: top + (Double(i) + 0.5) * cell + 4, size: 12, anchor: "end")
            canvas.text(classNames[i], x: left + (Double(i) + 0.5) * cell, y: top + Double(c) * cell + 20, size: 12, anchor: "middle")
        }
        canvas.text("predicted class", x: left + cell * Double(c) / 2, y: top + Double(c) * cell + 45, size: 12, anchor: "middle")
        canvas.text("true class", x: 16, y: top + cell * Double(c) / 2, size: 12, anchor: "middle", rotate: -90)
        return canvas.document
    }

    /// One-vs-rest ROC curves per class and the macro-average curve, with AUCs in the legend.
    public static func rocSVG(_ metrics: ClassificationMetrics, title: String = "ROC curves (one-vs-rest)") -> String {
        let frame = PlotFrame(plotWidth: 420, plotHeight: 420, xRange: 0...1, yRange: 0...1)
        var canvas = SVGCanvas(width: 720, height: 520)
        frame.drawAxes(on: &canvas, title: title, xLabel: "false positive rate", yLabel: "true positive rate")
        canvas.line(frame.x(0), frame.y(0), frame.x(1), frame.y(1), stroke: "#999999", dash: "4 4")
        var legend: [(String, String, String?)] = []
        for (k, curve) in metrics.rocCurves.enumerated() {
            guard let curve else { continue }
            let color = seriesColors[k % seriesColors.count]
            canvas.polyline(zip(curve.falsePositiveRates, curve.truePositiveRates).map { (frame.x($0), frame.y($1)) }, stroke: color)
            legend.append(("\(metrics.classNames[k]) (AUC = \(String(format: "%.3f", curve.area)))", color, nil))
        }
        let macro = metrics.macroROC
        canvas.polyline(zip(macro.falsePositiveRates, macro.truePositiveRates).map { (frame.x($0), frame.y($1)) },
                        stroke: "black", width: 2, dash: "6 3")
        legend.append(("macro average (AUC = \(String(format: "%.3f", metrics.aurocMacro)))", "black", "6 3"))
        legend.append(("micro AUC = \(String(format: "%.3f", metrics.aurocMicro))", "none", nil))
        drawLegend(&canvas, legend, x: frame.left + frame.plotWidth + 15, y: frame.top + 10)
        return canvas.document
    }

    /// Training curves: every loss term's epoch mean (left panel) and the held-out source accuracy in percent (right
    /// panel), with the target test accuracy of `--diagnose-target` runs drawn dashed and labelled as a diagnostic.
    /// Epoch ticks are whole numbers; legends sit below the panels' titles, beside the plots.
    public static func trainingCurvesSVG(_ history: [EpochRecord], title: String = "Training curves") -> String {
        var canvas = SVGCanvas(width: 1180, height: 420)
        let epochs = history.map { Double($0.epoch) }
        let xRange = (epochs.min() ?? 0)...max(epochs.max() ?? 1, (epochs.min() ?? 0) + 1)
        let names = Array(Set(history.flatMap { $0.losses.keys })).sorted()
        let values = history.flatMap { $0.losses.values }.filter(\.isFinite)
        let lossFrame = PlotFrame(plotWidth: 360, plotHeight: 300, xRange: xRange,
                                  yRange: min(0, values.min() ?? 0)...max(values.max() ?? 1, 1e-3))
        lossFrame.drawAxes(on: &canvas, title: "losses (epoch mean)", xLabel: "epoch", yLabel: "loss", integerX: true)
        var legend: [(String, String, String?)] = []
        for (k, name) in names.enumerated() {
            let color = seriesColors[k % seriesColors.count]
            let points = history.compactMap { r in r.losses[name].map { (lossFrame.x(Double(r.epoch)), lossFrame.y($0)) } }
            canvas.polyline(points, stroke: color)
            legend.append((name, color, nil))
        }
        drawLegend(&canvas, legend, x: lossFrame.left + lossFrame.plotWidth + 10, y: lossFrame.top + 10)
        let shift = 590.0
        let accuracyFrame = PlotFrame(plotWidth: 300, plotHeight: 300, xRange: xRange, yRange: 0...100)
        accuracyFrame.drawAxes(on: &canvas, title: "accuracy", xLabel: "epoch", yLabel: "accuracy (%)", integerX: true, xOffset: shift)
        canvas.polyline(history.map { (shift + accuracyFrame.x(Double($0.epoch)), accuracyFrame.y($0.validationAccuracy)) },
                        stroke: seriesColors[0], width: 2)
        var accuracyLegend: [(String, String, String?)] = [("held-out source (selection)", seriesColors[0], nil)]
        let diagnostic = history.compactMap { r in r.diagnosticTargetAccuracy.map { (shift + accuracyFrame.x(Double(r.epoch)), accuracyFrame.y($0)) } }
        if !diagnostic.isEmpty {
            canvas.polyline(diagnostic, stroke: seriesColors[1], width: 2, dash: "6 3")
            accuracyLegend.append(("target test (diagnostic only,", seriesColors[1], "6 3"))
            accuracyLegend.append(("  never used to select)", "none", nil))
        }
        drawLegend(&canvas, accuracyLegend, x: shift + accuracyFrame.left + accuracyFrame.plotWidth + 10, y: accuracyFrame.top + 10)
        canvas.text(title, x: 590, y: 16, size: 15, anchor: "middle", bold: true)
        return canvas.document
    }

    static func drawLegend(_ canvas: inout SVGCanvas, _ entries: [(String, String, String?)], x: Double, y: Double) {
        for (i, (label, color, dash)) in entries.enumerated() {
            let yy = y + Double(i) * 20
            if color != "none" { canvas.line(x, yy, x + 24, yy, stroke: color, width: 2, dash: dash) }
            canvas.text(label, x: x + 30, y: yy + 4, size: 11)
        }
    }
}
