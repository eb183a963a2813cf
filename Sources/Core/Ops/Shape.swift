/// Joining and cutting tensors along one axis. A tensor viewed as `[outer, extent, inner]` around the axis is
/// a sequence of `outer` contiguous blocks of `extent * inner` elements, so every op here is block copies.
extension Tensor {
    /// Joins tensors along `axis`; all other extents must agree (as `torch.cat`).
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let a = normalizeAxis(axis, rank: first.rank, "concat")
        for t in tensors {
            var s = t.shape, f = first.shape
            precondition(s.count == f.count, "concat: shapes \(f) and \(t.shape) differ in rank")
            s[a] = 0; f[a] = 0
            precondition(s == f, "concat: shapes \(first.shape) and \(t.shape) differ outside axis \(a)")
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let widths = tensors.map { $0.shape[a] * inner }
        let total = widths.reduce(0, +)
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let values = Pointwise.filled(outer * total) { o in
            var start = 0
            for (t, w) in zip(tensors, widths) {
                t.scalars.withUnsafeBufferPointer { src in
                    guard let s = src.baseAddress else { return }
                    for b in 0..<outer { (o + b * total + start).update(from: s + b * w, count: w) }
                }
                start += w
            }
        }
        return record("concat", shape: outShape, scalars: values, inputs: tensors) { g in
            var start = 0
            return zip(tensors, widths).map { t, w in
                defer { start += w }
                guard t.requiresGrad else { return nil }
                return Tensor(shape: t.shape, scalars: copyBlocks(g.scalars, outer: outer, from: total, start: start, width: w))
            }
        }
    }

    /// Consecutive pieces along `axis` with the given extents, which must add up to the axis extent
    /// (as `torch.split` with a list of sizes).
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis, rank: rank, "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to extent \(shape[a]) of axis \(a) in \(shape)")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(axis: a, range: start..<(start + n))
        }
    }

    /// The elements whose index along `axis` lies in `range` (as `x.narrow(axis, start, length)`).
    public func slice(axis: Int, range: Range<Int>) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(a) of \(shape)")
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let full = shape[a] * inner, start = range.lowerBound * inner, width = range.count * inner
        var outShape = shape
        outShape[a] = range.count
        let original = shape
        let values = Tensor.copyBlocks(scalars, outer: outer, from: full, start: start, width: width)
        return Tensor.record("slice", shape: outShape, scalars: values, inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: outer * full)
            gx.withUnsafeMutableBufferPointer { d in
                g.scalars.withUnsafeBufferPointer { s in
                    guard let dst = d.baseAddress, let src = s.baseAddress else { return }
                    for b in 0..<outer { (dst + b * full + start).update(from: src + b * width, count: width) }
                }
            }
            return [Tensor(shape: original, scalars: gx)]
        }
    }

    /// Columns `start..<start+width` of `x` viewed as `[outer, from]`.
    static func copyBlocks(_ x: [Float], outer: Int, from: Int, start: Int, width: Int) -> [Float] {
        x.withUnsafeBufferPointer { xb in
            Pointwise.filled(outer * width) { o in
                guard let s = xb.baseAddress else { return }
                for b in 0..<outer { (o + b * width).update(from: s + b * from + start, count: width) }
            }
        }
    }
}
