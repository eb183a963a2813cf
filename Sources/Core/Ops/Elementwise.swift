import Foundation

/// Pointwise kernels: one contiguous loop over unsafe buffers per chunk, split over the compute threads once a
/// tensor is large enough to amortise the dispatch. The per-element expression is written inside the closure
/// literal of each op, so it is compiled into the loop (no call per element). Ops load every operand before a
/// select (`let gv = g[i]; o[i] = x[i] > 0 ? gv : 0`): a load inside one arm of `?:` cannot be speculated, so
/// the compiler emits a branch per element (mispredicted half the time on activations) instead of a vector blend.
enum Pointwise {
    /// Below this many elements a pointwise op runs on the calling thread.
    static let parallelThreshold = 1 << 16

    /// A new array of `count` elements whose chunks `body(out, range)` fills.
    @inline(__always)
    static func generate(_ count: Int, _ body: (UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                let o = buffer.baseAddress!
                parallelChunks(count, minimumChunk: parallelThreshold) { body(o, $0) }
            }
            initialized = count
        }
    }

    /// A new array of `count` elements that `body` fills completely on the calling thread.
    @inline(__always)
    static func filled(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { body(buffer.baseAddress!) }
            initialized = count
        }
    }

    /// `body(x, out, range)` over one input array.
    @inline(__always)
    static func map(
        _ a: [Float], _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    ) -> [Float] {
        a.withUnsafeBufferPointer { x in
            guard let px = x.baseAddress else { return [] }
            return generate(a.count) { o, r in body(px, o, r) }
        }
    }

    /// `body(x, y, out, range)` over two same-length input arrays.
    @inline(__always)
    static func map(
        _ a: [Float], _ b: [Float],
        _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    ) -> [Float] {
        precondition(a.count == b.count, "pointwise: \(a.count) vs \(b.count) elements")
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                guard let px = x.baseAddress, let py = y.baseAddress else { return [] }
                return generate(a.count) { o, r in body(px, py, o, r) }
            }
        }
    }
}

extension Pointwise {
    /// `body(x, y, z, out, range)` over three same-length input arrays.
    @inline(__always)
    static func map(
        _ a: [Float], _ b: [Float], _ c: [Float],
        _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void
    ) -> [Float] {
        precondition(a.count == b.count && b.count == c.count, "pointwise: \(a.count), \(b.count), \(c.count) elements")
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                c.withUnsafeBufferPointer { z in
                    guard let px = x.baseAddress, let py = y.baseAddress, let pz = z.baseAddress else { return [] }
                    return generate(a.count) { o, r in body(px, py, pz, o, r) }
                }
            }
        }
    }
}

/// Elementwise mathematical functions. Each op keeps the tensor it needs for its derivative (input or output)
/// and computes the derivative in one fused loop with the incoming gradient.
extension Tensor {
    /// e^x elementwise. Derivative: e^x (the output).
    public func exp() -> Tensor {
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = expf(x[i]) } }
        return Tensor.record("exp", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } })]
        }
    }

    /// Natural logarithm elementwise (nan below 0, -inf at 0, as IEEE). Derivative: 1/x.
    public func log() -> Tensor {
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = logf(x[i]) } }
        return Tensor.record("log", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in for i in r { o[i] = g[i] / x[i] } })]
        }
    }

    /// Square root elementwise. Derivative: 1/(2 sqrt x) (infinite at 0, as in PyTorch).
    public func sqrt() -> Tensor {
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i].squareRoot() } }
        return Tensor.record("sqrt", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, y) { g, y, o, r in for i in r { o[i] = g[i] / (2 * y[i]) } })]
        }
    }

    /// x^p elementwise for a constant exponent (nan for negative x and non-integer p, as `powf`).
    /// Derivative: p x^(p-1). p = 2 and p = 1/2 take exact fast paths.
    public func pow(_ p: Float) -> Tensor {
        let x = self
        let y: [Float]
        switch p {
        case 2: y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i] * x[i] } }
        case 0.5: y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i].squareRoot() } }
        case 1: y = scalars
        default: y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = powf(x[i], p) } }
        }
        return Tensor.record("pow", shape: shape, scalars: y, inputs: [self]) { g in
            let gx: [Float]
            switch p {
            case 2: gx = Pointwise.map(g.scalars, x.scalars) { g, x, o, r in for i in r { o[i] = 2 * g[i] * x[i] } }
            case 1: gx = g.scalars
            case 0: gx = [Float](repeating: 0, count: g.count)
            default:
                gx = Pointwise.map(g.scalars, x.scalars) { g, x, o, r in for i in r { o[i] = g[i] * p * powf(x[i], p - 1) } }
            }
            return [Tensor(shape: g.shape, scalars: gx)]
        }
    }

    /// |x| elementwise. Derivative: sign(x), taken as 0 at x = 0 (PyTorch's subgradient).
    public func abs() -> Tensor {
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = x[i].magnitude } }
        return Tensor.record("abs", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in
                for i in r { let v = x[i], gv = g[i]; o[i] = v > 0 ? gv : (v < 0 ? -gv : 0) }
            })]
        }
    }

    /// Clamps every element into `[min, max]` (either bound may be nil). The gradient passes where
    /// `min <= x <= max` (bounds inclusive, as `torch.clamp`) and is zero outside.
    public func clamped(min low: Float? = nil, max high: Float? = nil) -> Tensor {
        let lo = low ?? -.infinity, hi = high ?? .infinity
        precondition(lo <= hi, "clamped: min \(lo) exceeds max \(hi)")
        let x = self
        let y = Pointwise.map(scalars) { x, o, r in for i in r { o[i] = Swift.min(Swift.max(x[i], lo), hi) } }
        return Tensor.record("clamp", shape: shape, scalars: y, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars, x.scalars) { g, x, o, r in
                for i in r { let v = x[i], gv = g[i]; o[i] = (v < lo || v > hi) ? 0 : gv }
            })]
        }
    }
}
