import Core

/// `sgemm-N`: `C = A * B` for square `N x N` row-major matrices through `Gemm.multiply` (OpenBLAS,
/// split over the compute threads): the machine's GEMM peak that every conv case is compared against.
let gemmCases: [BenchCase] = [1024, 2048].map { n in
    BenchCase(name: "sgemm-\(n)", flops: 2 * Double(n) * Double(n) * Double(n)) {
        let a = benchTensor([n, n], seed: 1), b = benchTensor([n, n], seed: 2)
        var c = [Float](repeating: 0, count: n * n)
        return {
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        Gemm.multiply(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                      c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }
}
