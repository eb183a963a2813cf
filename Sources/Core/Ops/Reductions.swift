/// Reductions over axes. A set of axes is split into runs of adjacent axes; each run is reduced as a
/// `[outer, middle, inner]` block, so the kernels are contiguous loops: a strip sum when `inner == 1`, a
/// vector accumulation of whole rows otherwise.
extension Tensor {
    /// Sum of all elements, a rank-0 tensor: float strips of 4096 elements, accumulated in double precision.
    public func sum() -> Tensor {
        let strip = 4096
        let strips = (count + strip - 1) / strip
        var partial = [Double](repeating: 0, count: strips)
        scalars.withUnsafeBufferPointer { xb in
            partial.withUnsafeMutableBufferPointer { pb in
                guard let x = xb.baseAddress, let p = pb.baseAddress else { return }
                let n = xb.count
                parallelChunks(strips, minimumChunk: 16) { range in
                    for k in range { p[k] = Double(VectorMath.sum(x + k * strip, count: Swift.min(strip, n - k * strip))) }
                }
            }
        }
        let original = shape
        return Tensor.record("sum", shape: [], scalars: [Float(partial.reduce(0, +))], inputs: [self]) { g in
            [Tensor(repeating: g.scalars[0], shape: original)]
        }
    }

    /// Mean of all elements, a rank-0 tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum over `axes` (negative axes count from the end; an empty list reduces nothing).
    /// The result drops the reduced axes, or keeps them with extent 1 when `keepingDims`.
    public func sum(axes: [Int], keepingDims: Bool = false) -> Tensor {
        reduceSum(axes: axes, keepingDims: keepingDims, mean: false)
    }

    /// Mean over `axes`: the sum divided by the number of elements reduced into each output element.
    public func mean(axes: [Int], keepingDims: Bool = false) -> Tensor {
        reduceSum(axes: axes, keepingDims: keepingDims, mean: true)
    }

    /// Maximum along `axis`. The gradient flows to the first position holding the maximum (ties are
    /// measure-zero for continuous inputs; PyTorch picks one position as well).
    public func max(axis: Int, keepingDims: Bool = false) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "max")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        precondition(n > 0, "max: axis \(axis) of shape \(shape) is empty")
        let (values, positions) = Tensor.maxAlong(scalars, outer: outer, n: n, inner: inner)
        var outShape = shape
        if keepingDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let original = shape
        return Tensor.record("max", shape: outShape, scalars: values, inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: outer * n * inner)
            gx.withUnsafeMutableBufferPointer { d in
                g.scalars.withUnsafeBufferPointer { s in
                    positions.withUnsafeBufferPointer { p in
                        for o in 0..<outer {
                            for i in 0..<inner {
                                let k = o * inner + i
                                d[(o * n + p[k]) * inner + i] += s[k]
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: original, scalars: gx)]
        }
    }

    /// Index of the (first) maximum along `axis`, for every position of the other axes in row-major order
    /// (the shape is `shape` without `axis`). Not differentiable.
    public func argmax(axis: Int) -> [Int] {
        let a = normalizeAxis(axis, rank: rank, "argmax")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        precondition(n > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        return Tensor.maxAlong(scalars, outer: outer, n: n, inner: inner).positions
    }

    private func reduceSum(axes: [Int], keepingDims: Bool, mean: Bool) -> Tensor {
        let op = mean ? "mean" : "sum"
        let sorted = Set(axes.map { normalizeAxis($0, rank: rank, op) }).sorted()
        var (values, blocks) = Tensor.sumAxes(scalars, shape: shape, axes: sorted)
        let reduced = sorted.reduce(1) { $0 * shape[$1] }
        let scale: Float = mean ? 1 / Float(Swift.max(reduced, 1)) : 1
        if scale != 1 { values = Pointwise.map(values) { x, o, r in for i in r { o[i] = x[i] * scale } } }
        var kept = shape
        for a in sorted { kept[a] = 1 }
        let outShape = keepingDims ? kept : shape.enumerated().filter { !sorted.contains($0.offset) }.map(\.element)
        let original = shape
        return Tensor.record(op, shape: outShape, scalars: values, inputs: [self]) { g in
            var gx = g.scalars
            if scale != 1 { gx = Pointwise.map(gx) { x, o, r in for i in r { o[i] = x[i] * scale } } }
            for block in blocks.reversed() {
                gx = Tensor.expandBlocks(gx, outer: block.outer, n: block.n, inner: block.inner)
            }
            return [Tensor(shape: original, scalars: gx)]
        }
    }

    /// Sums `x` (of `shape`) over the sorted, distinct `axes`, in row-major order of the kept axes.
    /// Also returns the `[outer, n, inner]` blocks reduced, in the order applied (last run of axes first),
    /// which `expandBlocks` undoes in reverse.
    static func sumAxes(_ x: [Float], shape: [Int], axes: [Int]) -> (values: [Float], blocks: [(outer: Int, n: Int, inner: Int)]) {
        var runs: [(Int, Int)] = []
        for a in axes {
            if let last = runs.last, last.1 == a { runs[runs.count - 1].1 = a + 1 } else { runs.append((a, a + 1)) }
        }
        var kept = shape
        var blocks: [(outer: Int, n: Int, inner: Int)] = []
        var values = x
        for (lo, hi) in runs.reversed() {
            let block = blockExtents(kept, lo, hi)
            blocks.append(block)
            values = Tensor.sumBlocks(values, outer: block.outer, n: block.n, inner: block.inner)
            for a in lo..<hi { kept[a] = 1 }
        }
        return (values, blocks)
    }

    /// `out[o, i] = sum_j x[o, j, i]` for `x` viewed as `[outer, n, inner]`.
    static func sumBlocks(_ x: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        x.withUnsafeBufferPointer { xb in
            Pointwise.generate(outer * inner) { o, range in
                guard let src = xb.baseAddress else { return }
                if inner == 1 {
                    for row in range { o[row] = VectorMath.sum(src + row * n, count: n) }
                    return
                }
                // Rows are whole `inner` vectors here; a chunk boundary inside a row is handled by clipping.
                var k = range.lowerBound
                while k < range.upperBound {
                    let row = k / inner, start = k - row * inner
                    let end = Swift.min(inner, start + (range.upperBound - k))
                    let dst = o + row * inner
                    for i in start..<end { dst[i] = 0 }
                    for j in 0..<n {
                        let s = src + (row * n + j) * inner
                        for i in start..<end { dst[i] += s[i] }
                    }
                    k += end - start
                }
            }
        }
    }

    /// `out[o, j, i] = g[o, i]`: the adjoint of `sumBlocks`.
    static func expandBlocks(_ g: [Float], outer: Int, n: Int, inner: Int) -> [Float] {
        g.withUnsafeBufferPointer { gb in
            Pointwise.filled(outer * n * inner) { d in
                let s = gb.baseAddress!
                parallelFor(outer, minimumChunk: Swift.max(1, Pointwise.parallelThreshold / Swift.max(1, n * inner))) { o in
                    let block = d + o * n * inner
                    if inner == 1 {
                        block.update(repeating: s[o], count: n)
                    } else {
                        for j in 0..<n { (block + j * inner).update(from: s + o * inner, count: inner) }
                    }
                }
            }
        }
    }

    /// Maximum values and their first positions along the middle axis of `[outer, n, inner]`.
    static func maxAlong(_ x: [Float], outer: Int, n: Int, inner: Int) -> (values: [Float], positions: [Int]) {
        var values = [Float](repeating: -.infinity, count: outer * inner)
        var positions = [Int](repeating: 0, count: outer * inner)
        x.withUnsafeBufferPointer { xb in
            values.withUnsafeMutableBufferPointer { vb in
                positions.withUnsafeMutableBufferPointer { pb in
                    for o in 0..<outer {
                        let v = vb.baseAddress! + o * inner, p = pb.baseAddress! + o * inner
                        let first = xb.baseAddress! + o * n * inner
                        for i in 0..<inner { v[i] = first[i] }
                        for j in 1..<Swift.max(n, 1) {
                            let s = first + j * inner
                            for i in 0..<inner {
                                let candidate = s[i], best = v[i], better = candidate > best
                                v[i] = better ? candidate : best
                                p[i] = better ? j : p[i]
                            }
                        }
                    }
                }
            }
        }
        return (values, positions)
    }
}

/// `(outer, middle, inner)`: the products of the extents before `lo`, in `lo..<hi`, and from `hi` on.
@inline(__always)
func blockExtents(_ shape: [Int], _ lo: Int, _ hi: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[..<lo].reduce(1, *), shape[lo..<hi].reduce(1, *), shape[hi...].reduce(1, *))
}

/// Dot product of two strips of `n` floats, eight lanes at a time.
@inline(__always)
func stripDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n {
        acc += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
        j += 8
    }
    var total = acc.sum()
    while j < n { total += a[j] * b[j]; j += 1 }
    return total
}

/// Maximum of a non-empty strip of `n` floats, eight lanes at a time (NaN inputs give an unspecified lane).
@inline(__always)
func stripMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var j = 0
    var best = p[0]
    if n >= 8 {
        var acc = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        j = 8
        while j + 8 <= n {
            acc = pointwiseMax(acc, UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self))
            j += 8
        }
        best = acc.max()
    }
    while j < n { best = Swift.max(best, p[j]); j += 1 }
    return best
}
