import Foundation

/// Softmax and log-softmax along one axis, stabilised by subtracting the maximum (Bridle 1990,
/// "Probabilistic interpretation of feedforward classification network outputs").
///
/// With the tensor viewed as `[outer, n, inner]` around the axis, the last-axis case (`inner == 1`) runs one
/// contiguous row per iteration; other axes accumulate whole `inner` rows, so no loop computes indices per
/// element. Rows are spread over the compute threads.
extension Tensor {
    /// `softmax(x)_j = e^(x_j - m) / sum_k e^(x_k - m)` along `axis`, m the maximum. Same shape as the input.
    /// Backward: `dx = y * (g - sum_k g_k y_k)`.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "softmax")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        let y = Tensor.softmaxRows(scalars, outer: outer, n: n, inner: inner, log: false)
        return Tensor.record("softmax", shape: shape, scalars: y, inputs: [self]) { g in
            if inner == 1 {
                return [Tensor(shape: g.shape, scalars: Tensor.rowwiseBackward(g.scalars, y, rows: outer, n: n) { g, y, dx, n in
                    let dot = stripDot(g, y, n)
                    for j in 0..<n { dx[j] = y[j] * (g[j] - dot) }
                })]
            }
            let dot = Tensor.sumBlocks(Pointwise.map(g.scalars, y) { g, y, o, r in for i in r { o[i] = g[i] * y[i] } },
                                       outer: outer, n: n, inner: inner)
            return [Tensor(shape: g.shape, scalars: Tensor.combineRows(g.scalars, y, dot, outer: outer, n: n, inner: inner) { g, y, s in y * (g - s) })]
        }
    }

    /// `log softmax(x)_j = x_j - m - log sum_k e^(x_k - m)` along `axis`. Same shape as the input.
    /// Backward: `dx = g - softmax(x) * sum_k g_k`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "logSoftmax")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        let y = Tensor.softmaxRows(scalars, outer: outer, n: n, inner: inner, log: true)
        return Tensor.record("logSoftmax", shape: shape, scalars: y, inputs: [self]) { g in
            if inner == 1 {
                return [Tensor(shape: g.shape, scalars: Tensor.rowwiseBackward(g.scalars, y, rows: outer, n: n) { g, y, dx, n in
                    let total = VectorMath.sum(g, count: n)
                    for j in 0..<n { dx[j] = g[j] - expf(y[j]) * total }
                })]
            }
            let total = Tensor.sumBlocks(g.scalars, outer: outer, n: n, inner: inner)
            return [Tensor(shape: g.shape, scalars: Tensor.combineRows(g.scalars, y, total, outer: outer, n: n, inner: inner) { g, y, s in g - expf(y) * s })]
        }
    }

    /// Softmax (or log-softmax) of `x` viewed as `[outer, n, inner]` along the middle axis.
    static func softmaxRows(_ x: [Float], outer: Int, n: Int, inner: Int, log: Bool) -> [Float] {
        x.withUnsafeBufferPointer { xb in
            Pointwise.filled(x.count) { o in
                let src = xb.baseAddress!
                let grain = Swift.max(1, Pointwise.parallelThreshold / Swift.max(1, n * inner))
                if inner == 1 {
                    parallelChunks(outer, minimumChunk: grain) { rows in
                        for row in rows { softmaxRow(src + row * n, o + row * n, n, log) }
                    }
                    return
                }
                parallelChunks(outer, minimumChunk: grain) { blocks in
                    var m = [Float](repeating: 0, count: inner), s = [Float](repeating: 0, count: inner)
                    m.withUnsafeMutableBufferPointer { mb in
                        s.withUnsafeMutableBufferPointer { sb in
                            let m = mb.baseAddress!, s = sb.baseAddress!
                            for b in blocks {
                                let x = src + b * n * inner, y = o + b * n * inner
                                for i in 0..<inner { m[i] = x[i]; s[i] = 0 }
                                for j in 1..<Swift.max(n, 1) { for i in 0..<inner { m[i] = Swift.max(m[i], x[j * inner + i]) } }
                                for j in 0..<n {
                                    for i in 0..<inner {
                                        let e = expf(x[j * inner + i] - m[i])
                                        y[j * inner + i] = e
                                        s[i] += e
                                    }
                                }
                                if log {
                                    for i in 0..<inner { s[i] = logf(s[i]) }
                                    for j in 0..<n { for i in 0..<inner { y[j * inner + i] = x[j * inner + i] - m[i] - s[i] } }
                                } else {
                                    for i in 0..<inner { s[i] = 1 / s[i] }
                                    for j in 0..<n { for i in 0..<inner { y[j * inner + i] *= s[i] } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Applies `body(g, y, dx, n)` to every contiguous row of `n` elements, rows spread over the threads.
    @inline(__always)
    static func rowwiseBackward(
        _ g: [Float], _ y: [Float], rows: Int, n: Int,
        _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> [Float] {
        g.withUnsafeBufferPointer { gb in
            y.withUnsafeBufferPointer { yb in
                Pointwise.filled(g.count) { o in
                    let gp = gb.baseAddress!, yp = yb.baseAddress!
                    parallelChunks(rows, minimumChunk: Swift.max(1, Pointwise.parallelThreshold / Swift.max(1, n))) { range in
                        for row in range { body(gp + row * n, yp + row * n, o + row * n, n) }
                    }
                }
            }
        }
    }

    /// `out[o, j, i] = f(g[o, j, i], y[o, j, i], s[o, i])` for arrays viewed as `[outer, n, inner]`.
    @inline(__always)
    static func combineRows(
        _ g: [Float], _ y: [Float], _ s: [Float], outer: Int, n: Int, inner: Int, _ f: (Float, Float, Float) -> Float
    ) -> [Float] {
        g.withUnsafeBufferPointer { gb in
            y.withUnsafeBufferPointer { yb in
                s.withUnsafeBufferPointer { sb in
                    Pointwise.filled(g.count) { o in
                        let gp = gb.baseAddress!, yp = yb.baseAddress!, sp = sb.baseAddress!
                        for b in 0..<outer {
                            for j in 0..<n {
                                let base = (b * n + j) * inner, srow = sp + b * inner
                                for i in 0..<inner { o[base + i] = f(gp[base + i], yp[base + i], srow[i]) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Softmax (or log-softmax) of one contiguous row of `n` values into `y`.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ log: Bool) {
    guard n > 0 else { return }
    let m = stripMax(x, n)
    for j in 0..<n { y[j] = expf(x[j] - m) }
    let s = VectorMath.sum(y, count: n)
    if log {
        let logSum = logf(s)
        for j in 0..<n { y[j] = (x[j] - m) - logSum }  // x - m is exact near m; m + logSum would round
    } else {
        let inv = 1 / s
        for j in 0..<n { y[j] *= inv }
    }
}
