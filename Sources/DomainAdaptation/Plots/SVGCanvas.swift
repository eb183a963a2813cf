import Foundation

/// A minimal SVG document builder for the evaluation plots (no dependencies, deterministic output).
struct SVGCanvas {
    let width: Double, height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
        elements.append("<rect width=\"\(f(width))\" height=\"\(f(height))\" fill=\"white\"/>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String = "none") {
        elements.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "black",
                       width: Double = 1, dash: String? = nil) {
        let d = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        elements.append("<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(d)/>")
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String, stroke: String = "black") {
        elements.append("<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(radius))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"0.7\"/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        guard !points.isEmpty else { return }
        let d = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        let p = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(d)/>")
    }

    mutating func text(_ s: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                       fill: String = "black", bold: Bool = false, rotate: Double? = nil) {
        let r = rotate.map { " transform=\"rotate(\(f($0)) \(f(x)) \(f(y)))\"" } ?? ""
        let w = bold ? " font-weight=\"bold\"" : ""
        elements.append("<text x=\"\(f(x))\" y=\"\(f(y))\" font-family=\"sans-serif\" font-size=\"\(f(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\"\(w)\(r)>\(escape(s))</text>")
    }

    var document: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\">\n"
            + elements.joined(separator: "\n") + "\n</svg>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.2f", v) }
    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// Line colours for series (colour-blind-safe Okabe-Ito palette).
let seriesColors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

/// A rectangular plotting area with linear axes, ticks and labels.
struct PlotFrame {
    let left = 70.0, top = 40.0, plotWidth: Double, plotHeight: Double
    let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>

    func x(_ v: Double) -> Double {
        left + (v - xRange.lowerBound) / max(xRange.upperBound - xRange.lowerBound, 1e-12) * plotWidth
    }
    func y(_ v: Double) -> Double {
        top + plotHeight - (v - yRange.lowerBound) / max(yRange.upperBound - yRange.lowerBound, 1e-12) * plotHeight
    }

    /// The x positions of axis ticks: `ticks + 1` evenly spaced values, or with `integerX` whole numbers only
    /// (every one, or every k-th so that at most 10 are drawn), as epochs need.
    func xTicks(_ ticks: Int, integerX: Bool) -> [Double] {
        guard integerX else {
            return (0...ticks).map { xRange.lowerBound + Double($0) / Double(ticks) * (xRange.upperBound - xRange.lowerBound) }
        }
        let first = Int(xRange.lowerBound.rounded(.up)), last = Int(xRange.upperBound.rounded(.down))
        guard first <= last else { return [] }
        let step = max(1, Int((Double(last - first) / 10).rounded(.up)))
        return stride(from: first, through: last, by: step).map(Double.init)
    }

    func drawAxes(on canvas: inout SVGCanvas, title: String, xLabel: String, yLabel: String, ticks: Int = 5,
                  integerX: Bool = false, xOffset: Double = 0) {
        canvas.rect(x: left + xOffset, y: top, width: plotWidth, height: plotHeight, fill: "none", stroke: "black")
        for xv in xTicks(ticks, integerX: integerX) {
            canvas.line(xOffset + x(xv), top + plotHeight, xOffset + x(xv), top + plotHeight + 4)
            canvas.text(label(xv), x: xOffset + x(xv), y: top + plotHeight + 18, size: 11, anchor: "middle")
        }
        let left = self.left + xOffset
        for i in 0...ticks {
            let t = Double(i) / Double(ticks)
            let yv = yRange.lowerBound + t * (yRange.upperBound - yRange.lowerBound)
            canvas.line(left - 4, y(yv), left, y(yv))
            canvas.line(left, y(yv), left + plotWidth, y(yv), stroke: "#dddddd", width: 0.5)
            canvas.text(label(yv), x: left - 8, y: y(yv) + 4, size: 11, anchor: "end")
        }
        canvas.text(title, x: left + plotWidth / 2, y: top - 14, size: 14, anchor: "middle", bold: true)
        canvas.text(xLabel, x: left + plotWidth / 2, y: top + plotHeight + 38, size: 12, anchor: "middle")
        canvas.text(yLabel, x: left - 52, y: top + plotHeight / 2, size: 12, anchor: "middle", rotate: -90)
    }

    private func label(_ v: Double) -> String {
        abs(v) >= 100 || v == v.rounded() ? String(format: "%.0f", v) : String(format: abs(v) < 1 ? "%.2f" : "%.1f", v)
    }
}
