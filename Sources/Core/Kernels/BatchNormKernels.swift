/// Batch normalisation kernels on `[N, C, L]` buffers (`L = H * W`, or 1 for `[N, C]`), parallel over channels
/// for reductions and over `(n, c)` planes for the elementwise passes.
enum BatchNormKernels {
    /// Per-channel mean and biased variance over the `N * L` values of each channel, in one pass with the
    /// shifted-data algorithm (shift = the channel's first value), which avoids the cancellation of
    /// `E[x^2] - E[x]^2` when the mean is large against the spread; partial sums per plane are combined in double.
    static func statistics(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>
    ) {
        let count = Double(batch * plane)
        parallelFor(channels) { c in
            let shift = x[c * plane]
            var s = 0.0, ss = 0.0
            for n in 0..<batch {
                let p = x + (n * channels + c) * plane
                let (ps, pss) = shiftedSums(p, count: plane, shift: shift)
                s += Double(ps)
                ss += Double(pss)
            }
            let m = s / count
            mean[c] = Float(Double(shift) + m)
            variance[c] = Float(max(ss / count - m * m, 0))
        }
    }

    @inline(__always)
    private static func shiftedSums(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> (Float, Float) {
        var s = SIMD16<Float>(), ss = SIMD16<Float>()
        let k = SIMD16<Float>(repeating: shift)
        var i = 0
        while i + 16 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - k
            s += d
            ss += d * d
            i += 16
        }
        var ts = s.sum(), tss = ss.sum()
        while i < count { let d = x[i] - shift; ts += d; tss += d * d; i += 1 }
        return (ts, tss)
    }

    /// `y[n, c, :] = x[n, c, :] * scale[c] + shift[c]`.
    static func affine(
        _ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        parallelChunks(batch * channels, minimumChunk: max(1, 4096 / max(plane, 1))) { range in
            for item in range {
                let c = item % channels, a = scale[c], b = shift[c]
                let src = x + item * plane, dst = output + item * plane
                for i in 0..<plane { dst[i] = src[i] * a + b }
            }
        }
    }

    /// Per channel: `sum(dy)` and `sum(dy * x)`.
    static func gradientSums(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        sumDy: UnsafeMutablePointer<Double>, sumDyX: UnsafeMutablePointer<Double>
    ) {
        parallelFor(channels) { c in
            var s = 0.0, sx = 0.0
            for n in 0..<batch {
                let offset = (n * channels + c) * plane
                let (a, b) = VectorMath.sumAndDot(dy + offset, x + offset, count: plane)
                s += Double(a)
                sx += Double(b)
            }
            sumDy[c] = s
            sumDyX[c] = sx
        }
    }

    /// `dx[n, c, :] = a[c] * dy + b[c] * x + k[c]`.
    static func combine(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, k: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        parallelChunks(batch * channels, minimumChunk: max(1, 4096 / max(plane, 1))) { range in
            for item in range {
                let c = item % channels, ac = a[c], bc = b[c], kc = k[c]
                let g = dy + item * plane, src = x + item * plane, dst = output + item * plane
                for i in 0..<plane { dst[i] = ac * g[i] + bc * src[i] + kc }
            }
        }
    }
}
