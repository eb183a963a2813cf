import ArgumentParser
import Core
import Foundation

/// `deeplense diff A B`: compares two model or checkpoint files tensor by tensor.
public struct DiffCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two .safetensors files (models, checkpoints) tensor by tensor.",
        discussion: """
            Prints the tensors with the largest absolute differences, the largest difference overall and how many \
            values differ by more than --tolerance. Exit status 0 when every value agrees within --tolerance \
            (default 0: bit-identical), or at most the share --allowed-fraction of them does not; 1 otherwise, or \
            when the files do not hold the same tensors and shapes. Use it to check that a resumed, re-run or \
            data-parallel run reproduces another. (Adam's first steps move each weight by about the learning rate \
            in the direction of its gradient's sign, so weights whose gradient is within round-off of zero can \
            differ by twice the learning rate between two correct runs: --allowed-fraction admits those few.)
            """)

    @Argument(help: "First .safetensors file.")
    var first: String
    @Argument(help: "Second .safetensors file.")
    var second: String
    @Option(help: "Largest absolute difference accepted for any element.")
    var tolerance: Double = 0
    @Option(help: "Share of the values (0-1) allowed to differ by more than --tolerance.")
    var allowedFraction: Double = 0
    @Option(help: "Tensors listed, largest difference first.")
    var top: Int = 5

    public init() {}

    public func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a non-negative number") }
        guard top >= 0 else { throw ValidationError("--top must be 0 or more") }
        guard (0...1).contains(allowedFraction) else { throw ValidationError("--allowed-fraction must lie in [0, 1]") }
    }

    public func run() throws {
        let a = try Safetensors.read(from: URL(fileURLWithPath: first))
        let b = try Safetensors.read(from: URL(fileURLWithPath: second))
        let comparison = try TensorComparison(a, b, tolerance: tolerance)
        print(comparison.report(top: top, names: (first, second)))
        if Double(comparison.exceeding) > allowedFraction * Double(comparison.valueCount) { throw ExitCode(1) }
    }
}

/// The element-wise differences of two state dictionaries with the same keys and shapes.
struct TensorComparison {
    /// Per tensor: key, shape, largest absolute difference, largest magnitude in the first file.
    let tensors: [(key: String, shape: [Int], difference: Double, magnitude: Double)]
    let tolerance: Double
    /// Values whose difference exceeds `tolerance`.
    let exceeding: Int

    init(_ a: StateDict, _ b: StateDict, tolerance: Double = 0) throws {
        let onlyA = Set(a.keys).subtracting(b.keys).sorted(), onlyB = Set(b.keys).subtracting(a.keys).sorted()
        guard onlyA.isEmpty, onlyB.isEmpty else {
            throw CommandInputError("the files hold different tensors (only in the first: \(TensorComparison.list(onlyA)); "
                + "only in the second: \(TensorComparison.list(onlyB)))")
        }
        self.tolerance = tolerance
        var exceeding = 0
        tensors = try a.entries.map { key, x in
            let y = b[key]!
            guard x.shape == y.shape else {
                throw CommandInputError("tensor \(key) has shape \(x.shape) in the first file and \(y.shape) in the second")
            }
            var difference = 0.0, magnitude = 0.0
            for (u, v) in zip(x.scalars, y.scalars) {
                let d = Double(u) - Double(v)
                // NaN against anything else counts as an infinite difference; two NaNs agree
                let gap = d.isNaN ? (u.isNaN && v.isNaN ? 0 : .infinity) : abs(d)
                if gap > tolerance { exceeding += 1 }
                difference = max(difference, gap)
                magnitude = max(magnitude, abs(Double(u)))
            }
            return (key, x.shape, difference, magnitude)
        }
        self.exceeding = exceeding
    }

    var largest: Double { tensors.map(\.difference).max() ?? 0 }
    var valueCount: Int { tensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    func report(top: Int, names: (String, String)) -> String {
        var lines = ["\(tensors.count) tensors, \(valueCount) values"]
        let ranked = tensors.filter { $0.difference > 0 }.sorted { $0.difference > $1.difference }.prefix(top)
        if !ranked.isEmpty {
            let width = ranked.map(\.key.count).max()!
            lines.append("tensor".padding(toLength: width, withPad: " ", startingAt: 0) + "  largest |a-b|  largest |a|  shape")
            for t in ranked {
                lines.append(t.key.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: "  %13.3e  %11.3e  ", t.difference, t.magnitude) + "\(t.shape)")
            }
        }
        let verdict = largest == 0 ? "bit-identical" : largest <= tolerance
            ? String(format: "equal within %.3g (largest difference %.3e)", tolerance, largest)
            : String(format: "%d of %d values differ by more than %.3g (largest difference %.3e)", exceeding, valueCount,
                     tolerance, largest)
        lines.append("\(names.0) vs \(names.1): \(verdict)")
        return lines.joined(separator: "\n")
    }

    private static func list(_ keys: [String]) -> String {
        keys.isEmpty ? "none" : keys.prefix(3).joined(separator: ", ") + (keys.count > 3 ? ", ..." : "")
    }
}
