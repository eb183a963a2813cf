import Foundation
import Core

/// A one-dimensional prior for a simulation parameter.
public enum Prior: Sendable, Equatable, CustomStringConvertible {
    /// Always this value (draws no random number).
    case fixed(Double)
    /// Uniform on `[low, high)`.
    case uniform(Double, Double)
    /// Log-uniform on `[low, high)` (uniform in `ln x`).
    case logUniform(Double, Double)

    /// One draw.
    public func sample(_ generator: inout SeededGenerator) -> Double {
        switch self {
        case .fixed(let v): return v
        case .uniform(let a, let b): return generator.uniform(a, b)
        case .logUniform(let a, let b): return exp(generator.uniform(log(a), log(b)))
        }
    }

    /// The largest value the prior can produce.
    public var upperBound: Double {
        switch self {
        case .fixed(let v): return v
        case .uniform(_, let b), .logUniform(_, let b): return b
        }
    }

    public var description: String {
        func f(_ v: Double) -> String {
            (abs(v) >= 1e4 || (abs(v) < 1e-2 && v != 0)) ? String(format: "%.3g", v) : String(format: "%g", v)
        }
        switch self {
        case .fixed(let v): return f(v)
        case .uniform(let a, let b): return "U(\(f(a)), \(f(b)))"
        case .logUniform(let a, let b): return "logU(\(f(a)), \(f(b)))"
        }
    }
}
