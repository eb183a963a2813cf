import Foundation

/// Gauss-Legendre quadrature nodes and weights on `[-1, 1]`, computed once by Newton's method on the
/// Legendre polynomial `P_n` (three-term recurrence), accurate to machine precision.
enum GaussLegendre {
    struct Rule: Sendable {
        let nodes: [Double]
        let weights: [Double]
    }

    /// The 32-point rule (exact for polynomials of degree 63).
    static let rule32 = make(32)

    static func make(_ n: Int) -> Rule {
        var nodes = [Double](repeating: 0, count: n), weights = nodes
        for i in 0..<n {
            var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = x
                for k in 2...n {
                    let p2 = (Double(2 * k - 1) * x * p1 - Double(k - 1) * p0) / Double(k)
                    p0 = p1
                    p1 = p2
                }
                derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
                let dx = p1 / derivative
                x -= dx
                if abs(dx) < 1e-16 { break }
            }
            nodes[i] = x
            weights[i] = 2 / ((1 - x * x) * derivative * derivative)
        }
        return Rule(nodes: nodes, weights: weights)
    }
}
