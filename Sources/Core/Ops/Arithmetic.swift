/// Broadcasting elementwise arithmetic (NumPy rules: shapes align at the trailing axis, an extent of 1
/// stretches). The result has the broadcast shape; gradients are summed back to each operand's shape.
extension Tensor {
    /// `a + b` elementwise with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = BroadcastKernel.apply(a, b, AddOp.self, "add")
        return record("add", shape: shape, scalars: out, inputs: [a, b]) { g in
            [a.requiresGrad ? reduceGradient(g, to: a.shape) : nil,
             b.requiresGrad ? reduceGradient(g, to: b.shape) : nil]
        }
    }

    /// `a - b` elementwise with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = BroadcastKernel.apply(a, b, SubtractOp.self, "subtract")
        return record("subtract", shape: shape, scalars: out, inputs: [a, b]) { g in
            [a.requiresGrad ? reduceGradient(g, to: a.shape) : nil,
             b.requiresGrad ? reduceGradient(g, to: b.shape, scale: -1) : nil]
        }
    }

    /// `a * b` elementwise with broadcasting. Gradients: `g * b` and `g * a`, reduced to each shape.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = BroadcastKernel.apply(a, b, MultiplyOp.self, "multiply")
        return record("multiply", shape: shape, scalars: out, inputs: [a, b]) { g in
            [a.requiresGrad ? reduceGradient(broadcastProduct(g, b), to: a.shape) : nil,
             b.requiresGrad ? reduceGradient(broadcastProduct(g, a), to: b.shape) : nil]
        }
    }

    /// `a / b` elementwise with broadcasting. Gradients: `g / b` and `-g a / b^2`, reduced to each shape.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = BroadcastKernel.apply(a, b, DivideOp.self, "divide")
        return record("divide", shape: shape, scalars: out, inputs: [a, b]) { g in
            var gb: Tensor? = nil
            if b.requiresGrad {
                // d(a/b)/db = -a/b^2 = -out/b
                let t = Tensor(shape: shape, scalars: Pointwise.map(g.scalars, out) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } })
                gb = reduceGradient(Tensor(shape: shape, scalars: BroadcastKernel.apply(t, b, DivideOp.self, "divide").scalars), to: b.shape, scale: -1)
            }
            let ga = a.requiresGrad
                ? reduceGradient(Tensor(shape: shape, scalars: BroadcastKernel.apply(g, b, DivideOp.self, "divide").scalars), to: a.shape)
                : nil
            return [ga, gb]
        }
    }

    /// `-a` elementwise.
    public static prefix func - (a: Tensor) -> Tensor {
        record("negate", shape: a.shape, scalars: Pointwise.map(a.scalars) { x, o, r in for i in r { o[i] = -x[i] } }, inputs: [a]) { g in
            [Tensor(shape: g.shape, scalars: Pointwise.map(g.scalars) { x, o, r in for i in r { o[i] = -x[i] } })]
        }
    }

    // Scalars broadcast as rank-0 tensors.
    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(s) }
    public static func + (s: Float, a: Tensor) -> Tensor { Tensor(s) + a }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(s) }
    public static func - (s: Float, a: Tensor) -> Tensor { Tensor(s) - a }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(s) }
    public static func * (s: Float, a: Tensor) -> Tensor { Tensor(s) * a }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(s) }
    public static func / (s: Float, a: Tensor) -> Tensor { Tensor(s) / a }

    /// `g * x` with `x` broadcast to the shape of `g`.
    private static func broadcastProduct(_ g: Tensor, _ x: Tensor) -> Tensor {
        Tensor(shape: g.shape, scalars: BroadcastKernel.apply(g, x, MultiplyOp.self, "multiply").scalars)
    }

    /// Sums a gradient of the broadcast result back to an operand's `shape` (times `scale`): over the leading
    /// axes the operand lacks and over the axes where it has extent 1.
    static func reduceGradient(_ g: Tensor, to shape: [Int], scale: Float = 1) -> Tensor {
        var values = g.scalars
        if g.shape != shape {
            let lead = g.rank - shape.count
            let axes = (0..<g.rank).filter { $0 < lead || (shape[$0 - lead] == 1 && g.shape[$0] != 1) }
            values = Tensor.sumAxes(g.scalars, shape: g.shape, axes: axes).values
        }
        if scale != 1 { values = Pointwise.map(values) { x, o, r in for i in r { o[i] = scale * x[i] } } }
        return Tensor(shape: shape, scalars: values)
    }
}

/// A binary elementwise function, specialised into the broadcast loops at compile time.
protocol BinaryFunction { static func apply(_ a: Float, _ b: Float) -> Float }
enum AddOp: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubtractOp: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MultiplyOp: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivideOp: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }

/// Broadcast evaluation of a binary function without an index per element.
///
/// Both operands are padded to the output rank with zero strides on broadcast axes; adjacent axes whose
/// strides chain for both operands are merged (`[N, C, H, W] + [C, 1, 1]` becomes `[N, C, HW]` with strides
/// `(C HW, HW, 1)` and `(0, 1, 0)`). The last merged axis then has unit or zero stride in each operand, so the
/// inner loop is one of four contiguous forms; the odometer over the other axes moves once per row. Work is
/// split over the compute threads in flat element ranges.
enum BroadcastKernel {
    static func apply<F: BinaryFunction>(_ a: Tensor, _ b: Tensor, _: F.Type, _ op: String) -> (shape: [Int], scalars: [Float]) {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op)
        let total = shape.reduce(1, *)
        var extents: [Int] = [], sa: [Int] = [], sb: [Int] = []
        let stridesA = paddedStrides(a.shape, rank: shape.count), stridesB = paddedStrides(b.shape, rank: shape.count)
        for axis in 0..<shape.count where shape[axis] != 1 {
            let e = shape[axis], x = stridesA[axis], y = stridesB[axis]
            if let last = extents.indices.last, sa[last] == x * e, sb[last] == y * e {
                extents[last] *= e; sa[last] = x; sb[last] = y
            } else {
                extents.append(e); sa.append(x); sb.append(y)
            }
        }
        if extents.isEmpty { extents = [1]; sa = [0]; sb = [0] }
        let k = extents.count, rowLength = extents[k - 1]
        let unitA = sa[k - 1] == 1, unitB = sb[k - 1] == 1
        let values = a.scalars.withUnsafeBufferPointer { ab in
            b.scalars.withUnsafeBufferPointer { bb in
                Pointwise.generate(total) { o, range in
                    let pa = ab.baseAddress!, pb = bb.baseAddress!
                    var row = range.lowerBound / rowLength, column = range.lowerBound - row * rowLength
                    // Offsets of the first row of this chunk.
                    var counter = [Int](repeating: 0, count: k - 1)
                    var offA = 0, offB = 0, rest = row
                    for axis in stride(from: k - 2, through: 0, by: -1) {
                        counter[axis] = rest % extents[axis]
                        rest /= extents[axis]
                        offA += counter[axis] * sa[axis]; offB += counter[axis] * sb[axis]
                    }
                    var position = range.lowerBound
                    while position < range.upperBound {
                        let n = Swift.min(rowLength - column, range.upperBound - position)
                        let dst = o + position
                        switch (unitA, unitB) {
                        case (true, true):
                            let x = pa + offA + column, y = pb + offB + column
                            for i in 0..<n { dst[i] = F.apply(x[i], y[i]) }
                        case (true, false):
                            let x = pa + offA + column, y = pb[offB]
                            for i in 0..<n { dst[i] = F.apply(x[i], y) }
                        case (false, true):
                            let x = pa[offA], y = pb + offB + column
                            for i in 0..<n { dst[i] = F.apply(x, y[i]) }
                        case (false, false):
                            let v = F.apply(pa[offA], pb[offB])
                            for i in 0..<n { dst[i] = v }
                        }
                        position += n
                        column = 0
                        row += 1
                        var axis = k - 2
                        while axis >= 0 {
                            counter[axis] += 1
                            offA += sa[axis]; offB += sb[axis]
                            if counter[axis] < extents[axis] { break }
                            offA -= sa[axis] * extents[axis]; offB -= sb[axis] * extents[axis]
                            counter[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
        }
        return (shape, values)
    }

    /// Row-major strides of `shape` right-aligned to `rank`, zero on missing and extent-1 axes.
    private static func paddedStrides(_ shape: [Int], rank: Int) -> [Int] {
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        return zip(stridesOf(padded), padded).map { $1 == 1 ? 0 : $0 }
    }
}
