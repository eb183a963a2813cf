/// Vectorised reductions over contiguous float runs. Sixteen independent partial sums let the compiler keep
/// SIMD accumulators (a single scalar accumulator forces a serial add chain under strict IEEE semantics).
enum VectorMath {
    /// `sum(x[0..<count])`.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var total = acc.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// `sum((x - center)^2)`.
    @inline(__always)
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int, center: Float) -> Float {
        var acc = SIMD16<Float>()
        let c = SIMD16<Float>(repeating: center)
        var i = 0
        while i + 16 <= count {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - c
            acc += d * d
            i += 16
        }
        var total = acc.sum()
        while i < count { let d = x[i] - center; total += d * d; i += 1 }
        return total
    }

    /// `(sum(a), sum(a * b))` over two runs.
    @inline(__always)
    static func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> (Float, Float) {
        var sa = SIMD16<Float>(), sab = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            sa += va
            sab += va * vb
            i += 16
        }
        var ta = sa.sum(), tab = sab.sum()
        while i < count { ta += a[i]; tab += a[i] * b[i]; i += 1 }
        return (ta, tab)
    }

    /// Short runs (a few pixels wide in deep layers) are copied inline: a call to memmove costs more than the copy.
    @inline(__always)
    static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
        if count >= 32 { dst.update(from: src, count: count); return }
        var i = 0
        while i < count { dst[i] = src[i]; i += 1 }
    }

    @inline(__always)
    static func zero(_ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= 32 { dst.update(repeating: 0, count: count); return }
        var i = 0
        while i < count { dst[i] = 0; i += 1 }
    }

    /// `dst[i] = src[2 * i]` for `i < count` (stride-2 im2col). Eight outputs at a time from one 16-wide load
    /// while `readable` (the floats from `src` to the end of its plane) covers the whole load.
    @inline(__always)
    static func gatherEven(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int, readable: Int) {
        var i = 0
        while i + 8 <= count && 2 * i + 16 <= readable {
            let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] = src[2 * i]; i += 1 }
    }

    /// `dst[2 * i] += src[i]` for `i < count` (stride-2 col2im). The odd lanes are written back unchanged, so
    /// `writable` (the floats from `dst` to the end of its plane, which only this thread writes) bounds the
    /// 16-wide stores.
    @inline(__always)
    static func addToEven(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int, writable: Int) {
        var i = 0
        while i + 8 <= count && 2 * i + 16 <= writable {
            let raw = UnsafeMutableRawPointer(dst + 2 * i)
            var v = raw.loadUnaligned(as: SIMD16<Float>.self)
            v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            raw.storeBytes(of: v, as: SIMD16<Float>.self)
            i += 8
        }
        while i < count { dst[2 * i] += src[i]; i += 1 }
    }
}
