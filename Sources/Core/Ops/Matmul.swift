extension Tensor {
    /// Matrix product of `[m, k]` and `[k, n]` giving `[m, n]`, through OpenBLAS sgemm.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0],
                     "matmul: shapes \(shape) and \(other.shape) are not [m, k] x [k, n]")
        let m = shape[0], k = shape[1], n = other.shape[1]
        let a = self, b = other
        let out = Tensor.gemm(a.scalars, b.scalars, m: m, n: n, k: k, transposeA: false, transposeB: false)
        return Tensor.record("matmul", shape: [m, n], scalars: out, inputs: [a, b]) { g in
            // dA = G B^T, dB = A^T G
            let ga = a.requiresGrad ? Tensor(shape: [m, k], scalars: Tensor.gemm(g.scalars, b.scalars, m: m, n: k, k: n, transposeA: false, transposeB: true)) : nil
            let gb = b.requiresGrad ? Tensor(shape: [k, n], scalars: Tensor.gemm(a.scalars, g.scalars, m: k, n: n, k: m, transposeA: true, transposeB: false)) : nil
            return [ga, gb]
        }
    }

    /// `op(A) * op(B)` for row-major arrays, where `op(A)` is `m x k` and `op(B)` is `k x n`.
    static func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        guard k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Gemm.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                  a: pa.baseAddress!, lda: transposeA ? m : k,
                                  b: pb.baseAddress!, ldb: transposeB ? k : n,
                                  c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }
}
