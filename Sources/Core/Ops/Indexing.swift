/// Selecting elements by integer index. Forward passes copy, backward passes scatter-add (an index may be
/// chosen several times, and each choice sends its gradient back).
extension Tensor {
    /// The slices at `indices` along `axis`, in that order (repeats allowed; as `torch.index_select`).
    /// Shape: this shape with the extent of `axis` replaced by `indices.count`.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "indexSelect")
        let n = shape[a]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "indexSelect: an index is outside 0..<\(n) (axis \(a) of \(shape))")
        let (outer, _, inner) = blockExtents(shape, a, a + 1)
        let k = indices.count
        var outShape = shape
        outShape[a] = k
        let original = shape
        let values = scalars.withUnsafeBufferPointer { xb in
            Pointwise.filled(outer * k * inner) { o in
                let s = xb.baseAddress!
                for b in 0..<outer {
                    for (j, idx) in indices.enumerated() {
                        (o + (b * k + j) * inner).update(from: s + (b * n + idx) * inner, count: inner)
                    }
                }
            }
        }
        return Tensor.record("indexSelect", shape: outShape, scalars: values, inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: outer * n * inner)
            gx.withUnsafeMutableBufferPointer { db in
                g.scalars.withUnsafeBufferPointer { gb in
                    guard let d = db.baseAddress, let s = gb.baseAddress else { return }
                    for b in 0..<outer {
                        for (j, idx) in indices.enumerated() {
                            let dst = d + (b * n + idx) * inner, src = s + (b * k + j) * inner
                            for i in 0..<inner { dst[i] += src[i] }
                        }
                    }
                }
            }
            return [Tensor(shape: original, scalars: gx)]
        }
    }

    /// Picks one element along `axis` for every output position (as `torch.gather` with an index of this
    /// tensor's shape except along `axis`): `out[..., j, ...] = self[..., indices[..., j, ...], ...]`.
    ///
    /// `indices` is row-major in the output shape, which is this shape with the extent of `axis` replaced by
    /// `indices.count / (count / shape[axis])`. For logits `[N, C]` and one label per row,
    /// `gather(axis: 1, indices: labels)` gives `[N, 1]`.
    public func gather(axis: Int, indices: [Int]) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, "gather")
        let (outer, n, inner) = blockExtents(shape, a, a + 1)
        let others = outer * inner
        precondition(others > 0 && indices.count % others == 0,
                     "gather: \(indices.count) indices do not fill a shape \(shape) with axis \(a) resized")
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gather: an index is outside 0..<\(n) (axis \(a) of \(shape))")
        let k = indices.count / others
        var outShape = shape
        outShape[a] = k
        let original = shape
        let values = scalars.withUnsafeBufferPointer { xb in
            indices.withUnsafeBufferPointer { ib in
                Pointwise.filled(indices.count) { o in
                    let s = xb.baseAddress!, idx = ib.baseAddress!
                    for b in 0..<outer {
                        for j in 0..<k {
                            let row = (b * k + j) * inner
                            for i in 0..<inner { o[row + i] = s[(b * n + idx[row + i]) * inner + i] }
                        }
                    }
                }
            }
        }
        return Tensor.record("gather", shape: outShape, scalars: values, inputs: [self]) { g in
            var gx = [Float](repeating: 0, count: outer * n * inner)
            gx.withUnsafeMutableBufferPointer { db in
                g.scalars.withUnsafeBufferPointer { gb in
                    indices.withUnsafeBufferPointer { ib in
                        let d = db.baseAddress!, s = gb.baseAddress!, idx = ib.baseAddress!
                        for b in 0..<outer {
                            for j in 0..<k {
                                let row = (b * k + j) * inner
                                for i in 0..<inner { d[(b * n + idx[row + i]) * inner + i] += s[row + i] }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: original, scalars: gx)]
        }
    }

    /// Rows of the identity: `[labels.count, classCount]` with a 1 at `(i, labels[i])` (as `F.one_hot`).
    public static func oneHot(_ labels: [Int], classCount: Int) -> Tensor {
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount }, "oneHot: a label is outside 0..<\(classCount)")
        var values = [Float](repeating: 0, count: labels.count * classCount)
        for (i, c) in labels.enumerated() { values[i * classCount + c] = 1 }
        return Tensor(shape: [labels.count, classCount], scalars: values)
    }
}
