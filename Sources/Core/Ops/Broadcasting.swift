/// NumPy broadcasting: shapes align at the trailing axis; an extent of 1 stretches to match.
func broadcastShape(_ a: [Int], _ b: [Int], _ op: String) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) do not broadcast")
        out[i] = da == 1 ? db : da
    }
    return out
}

/// For each element of `outShape`, the flat index of the element of `shape` (broadcast into it) it reads.
func broadcastIndices(from shape: [Int], to outShape: [Int]) -> [Int] {
    let total = outShape.reduce(1, *)
    let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
    let inStrides = stridesOf(padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
    var indices = [Int](repeating: 0, count: total)
    var counter = [Int](repeating: 0, count: outShape.count)
    var offset = 0
    for flat in 0..<total {
        indices[flat] = offset
        var axis = outShape.count - 1
        while axis >= 0 {
            counter[axis] += 1
            offset += inStrides[axis]
            if counter[axis] < outShape[axis] { break }
            offset -= inStrides[axis] * outShape[axis]
            counter[axis] = 0
            axis -= 1
        }
    }
    return indices
}

/// Sums a gradient of the broadcast shape back to the shape of the operand that was broadcast.
/// This is the one place that undoes broadcasting for every op.
func unbroadcast(_ grad: Tensor, to shape: [Int]) -> Tensor {
    if grad.shape == shape { return grad }
    var out = [Float](repeating: 0, count: shape.reduce(1, *))
    let idx = broadcastIndices(from: shape, to: grad.shape)
    grad.scalars.withUnsafeBufferPointer { g in
        for i in 0..<g.count { out[idx[i]] += g[i] }
    }
    return Tensor(shape: shape, scalars: out)
}

/// Applies `f` elementwise over two broadcast operands. Same-shape and scalar operands take fast paths.
func broadcastMap(_ a: Tensor, _ b: Tensor, _ op: String, _ f: (Float, Float) -> Float) -> (shape: [Int], scalars: [Float]) {
    if a.shape == b.shape {
        var out = [Float](repeating: 0, count: a.count)
        a.scalars.withUnsafeBufferPointer { x in
            b.scalars.withUnsafeBufferPointer { y in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<o.count { o[i] = f(x[i], y[i]) }
                }
            }
        }
        return (a.shape, out)
    }
    let shape = broadcastShape(a.shape, b.shape, op)
    let total = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: total)
    if b.count == 1 {
        let y = b.scalars[0]
        a.scalars.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<total { o[i] = f(x[i % x.count], y) } }
        }
        return (shape, out)
    }
    if a.count == 1 {
        let x = a.scalars[0]
        b.scalars.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<total { o[i] = f(x, y[i % y.count]) } }
        }
        return (shape, out)
    }
    let ia = broadcastIndices(from: a.shape, to: shape)
    let ib = broadcastIndices(from: b.shape, to: shape)
    a.scalars.withUnsafeBufferPointer { x in
        b.scalars.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<total { o[i] = f(x[ia[i]], y[ib[i]]) }
            }
        }
    }
    return (shape, out)
}

/// Elementwise map of one tensor.
func unaryMap(_ a: Tensor, _ f: (Float) -> Float) -> [Float] {
    var out = [Float](repeating: 0, count: a.count)
    a.scalars.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] = f(x[i]) } }
    }
    return out
}

/// Elementwise map of two same-shape arrays.
func zipMap(_ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float) -> [Float] {
    precondition(a.count == b.count, "zipMap: \(a.count) vs \(b.count) elements")
    var out = [Float](repeating: 0, count: a.count)
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] = f(x[i], y[i]) } }
        }
    }
    return out
}
