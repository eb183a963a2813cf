import CBLAS

/// Single-precision GEMM through OpenBLAS: `C = alpha * op(A) * op(B) + beta * C`, row-major.
///
/// OpenBLAS runs single-threaded; large products are split by columns (or rows) of C over the compute threads,
/// so each output element is computed by exactly one thread with the same reduction order.
package enum Gemm {
    /// Touch before any BLAS call: OpenBLAS must not start its own threads (ours drive it).
    static let configured: Void = { openblas_set_num_threads(1) }()

    /// Row-major GEMM. `a` is `m x k` (or `k x m` if `transposeA`), `b` is `k x n` (or `n x k`), `c` is `m x n`.
    package static func multiply(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        parallel: Bool = true
    ) {
        _ = configured
        guard m > 0, n > 0 else { return }
        let ta = transposeA ? CblasTrans : CblasNoTrans
        let tb = transposeB ? CblasTrans : CblasNoTrans
        let work = Double(m) * Double(n) * Double(k)
        let threads = parallel && work > 2e6 ? ComputeThreads.count : 1
        if threads == 1 {
            cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                        beta, c, Int32(ldc))
            return
        }
        let aAddress = Int(bitPattern: a), bAddress = Int(bitPattern: b), cAddress = Int(bitPattern: c)
        if n >= m {
            parallelChunks(n, minimumChunk: 16) { cols in
                let bp = UnsafePointer<Float>(bitPattern: bAddress)!
                let cp = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
                let bOffset = transposeB ? cols.lowerBound * ldb : cols.lowerBound
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(cols.count), Int32(k), alpha,
                            UnsafePointer<Float>(bitPattern: aAddress)!, Int32(lda), bp + bOffset, Int32(ldb),
                            beta, cp + cols.lowerBound, Int32(ldc))
            }
        } else {
            parallelChunks(m, minimumChunk: 16) { rows in
                let ap = UnsafePointer<Float>(bitPattern: aAddress)!
                let cp = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
                let aOffset = transposeA ? rows.lowerBound : rows.lowerBound * lda
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(rows.count), Int32(n), Int32(k), alpha,
                            ap + aOffset, Int32(lda), UnsafePointer<Float>(bitPattern: bAddress)!, Int32(ldb),
                            beta, cp + rows.lowerBound * ldc, Int32(ldc))
            }
        }
    }
}
