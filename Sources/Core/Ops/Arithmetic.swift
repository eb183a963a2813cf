/// Broadcasting elementwise arithmetic. Gradients are summed back to each operand's shape.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = broadcastMap(a, b, "add", +)
        return record("add", shape: shape, scalars: out, inputs: [a, b]) { g in
            [unbroadcast(g, to: a.shape), unbroadcast(g, to: b.shape)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = broadcastMap(a, b, "subtract", -)
        return record("subtract", shape: shape, scalars: out, inputs: [a, b]) { g in
            [unbroadcast(g, to: a.shape), unbroadcast(Tensor(shape: g.shape, scalars: unaryMap(g) { -$0 }), to: b.shape)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = broadcastMap(a, b, "multiply", *)
        return record("multiply", shape: shape, scalars: out, inputs: [a, b]) { g in
            [a.requiresGrad ? unbroadcast(Tensor(shape: g.shape, scalars: broadcastMap(g, b, "multiply", *).scalars), to: a.shape) : nil,
             b.requiresGrad ? unbroadcast(Tensor(shape: g.shape, scalars: broadcastMap(g, a, "multiply", *).scalars), to: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = broadcastMap(a, b, "divide", /)
        return record("divide", shape: shape, scalars: out, inputs: [a, b]) { g in
            let ga = a.requiresGrad ? unbroadcast(Tensor(shape: g.shape, scalars: broadcastMap(g, b, "divide", /).scalars), to: a.shape) : nil
            var gb: Tensor? = nil
            if b.requiresGrad {
                // d(a/b)/db = -a/b^2 = -out/b
                let q = Tensor(shape: shape, scalars: out)
                let t = broadcastMap(q, b, "divide", /).scalars
                gb = unbroadcast(Tensor(shape: g.shape, scalars: zipMap(g.scalars, t) { -$0 * $1 }), to: b.shape)
            }
            return [ga, gb]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        record("negate", shape: a.shape, scalars: unaryMap(a) { -$0 }, inputs: [a]) { g in
            [Tensor(shape: g.shape, scalars: unaryMap(g) { -$0 })]
        }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }
}
