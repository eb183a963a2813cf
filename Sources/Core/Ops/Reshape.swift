extension Tensor {
    /// The same values viewed with a new shape; one extent may be -1 and is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot view \(shape) as \(newShape)")
            target[hole] = count / known
        }
        precondition(target.reduce(1, *) == count, "reshape: cannot view \(shape) as \(newShape)")
        let original = shape
        return Tensor.record("reshape", shape: target, scalars: scalars, inputs: [self]) { g in
            [Tensor(shape: original, scalars: g.scalars)]
        }
    }

    /// Collapses every axis after the first: `[N, ...] -> [N, rest]`.
    public func flattened() -> Tensor { reshaped([shape.first ?? 1, -1]) }

    /// Reorders the axes: axis `i` of the result is axis `axes[i]` of this tensor (as `torch.permute`).
    /// The values are copied into row-major order of the new shape; the gradient is permuted back.
    public func permuted(_ axes: [Int]) -> Tensor {
        let perm = axes.map { normalizeAxis($0, rank: rank, "permute") }
        precondition(perm.count == rank && Set(perm).count == rank, "permute: \(axes) is not a permutation of the axes of \(shape)")
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in perm.enumerated() { inverse[p] = i }
        let outShape = perm.map { shape[$0] }
        let original = shape
        let values = Tensor.permute(scalars, shape: shape, perm)
        return Tensor.record("permute", shape: outShape, scalars: values, inputs: [self]) { g in
            [Tensor(shape: original, scalars: Tensor.permute(g.scalars, shape: outShape, inverse))]
        }
    }

    /// The transpose of a matrix: `[m, n] -> [n, m]`.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed: needs a matrix, shape is \(shape)")
        return permuted([1, 0])
    }

    /// Row-major copy of `x` (of `shape`) with its axes reordered by `perm`.
    ///
    /// Axes that stay adjacent and in order are merged first. The common cases then become a plain copy or a
    /// batched matrix transpose (NCHW <-> NHWC, `[m, n] -> [n, m]`), done in cache-sized tiles; anything else
    /// walks the output row by row with one strided inner loop.
    static func permute(_ x: [Float], shape: [Int], _ perm: [Int]) -> [Float] {
        // Merge runs of input axes that appear consecutively in `perm`; drop extent-1 axes.
        var groups: [[Int]] = []
        for p in perm where shape[p] != 1 {
            if let last = groups.last?.last, last + 1 == p { groups[groups.count - 1].append(p) } else { groups.append([p]) }
        }
        let order = groups.map { $0[0] }.sorted()
        let inExtent = order.map { first in groups.first { $0[0] == first }!.reduce(1) { $0 * shape[$1] } }
        let mergedPerm = groups.map { order.firstIndex(of: $0[0])! }
        let k = mergedPerm.count
        if k <= 1 || mergedPerm == Array(0..<k) { return x }
        let inStrides = stridesOf(inExtent)
        let outExtent = mergedPerm.map { inExtent[$0] }
        if Array(mergedPerm.prefix(k - 2)) == Array(0..<(k - 2)) {
            let rows = inExtent[k - 2], cols = inExtent[k - 1]
            return transposeBatched(x, batch: inExtent.prefix(k - 2).reduce(1, *), rows: rows, cols: cols)
        }
        return x.withUnsafeBufferPointer { xb in
            Pointwise.filled(x.count) { o in
                let src = xb.baseAddress!
                let lastExtent = outExtent[k - 1], lastStride = inStrides[mergedPerm[k - 1]]
                var counter = [Int](repeating: 0, count: k - 1)
                var offset = 0, dst = 0
                let rowsTotal = x.count / lastExtent
                for _ in 0..<rowsTotal {
                    var s = offset
                    for i in 0..<lastExtent { o[dst + i] = src[s]; s += lastStride }
                    dst += lastExtent
                    var axis = k - 2
                    while axis >= 0 {
                        counter[axis] += 1
                        offset += inStrides[mergedPerm[axis]]
                        if counter[axis] < outExtent[axis] { break }
                        offset -= inStrides[mergedPerm[axis]] * outExtent[axis]
                        counter[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// `batch` independent `[rows, cols] -> [cols, rows]` transposes, in 32 x 32 tiles.
    static func transposeBatched(_ x: [Float], batch: Int, rows: Int, cols: Int) -> [Float] {
        let tile = 32
        return x.withUnsafeBufferPointer { xb in
            Pointwise.filled(x.count) { o in
                let src = xb.baseAddress!
                let tilesPerMatrix = ((rows + tile - 1) / tile) * ((cols + tile - 1) / tile)
                parallelFor(batch * tilesPerMatrix, minimumChunk: 64) { t in
                    let b = t / tilesPerMatrix, r = t % tilesPerMatrix
                    let colTiles = (cols + tile - 1) / tile
                    let r0 = (r / colTiles) * tile, c0 = (r % colTiles) * tile
                    let r1 = Swift.min(rows, r0 + tile), c1 = Swift.min(cols, c0 + tile)
                    let s = src + b * rows * cols, d = o + b * rows * cols
                    for c in c0..<c1 {
                        for rr in r0..<r1 { d[c * rows + rr] = s[rr * cols + c] }
                    }
                }
            }
        }
    }
}
