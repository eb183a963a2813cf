/// Double-precision `exp`, `log` and `atan` on `width` (8) lanes at once, for ray-tracing loops that libm would
/// serialise; with `-target-cpu native` on AVX-512 machines one lane group is one register.
///
/// All follow the argument reductions and minimax polynomials of Sun's fdlibm (`e_exp.c`, `e_log.c`, `s_atan.c`), with
/// per-lane selects in place of branches; accuracy is about 1 ulp (the tests check 2e-16 relative against libm).
public enum SIMDMath {
    public typealias Vector = SIMD8<Double>
    public typealias Bits = SIMD8<UInt64>
    /// Lanes per call.
    public static let width = Vector.scalarCount

    /// `e^x` for lanes in `[-708, 708]` (results stay normal); lanes outside are clamped to that range.
    @inlinable
    public static func exp(_ x: Vector) -> Vector {
        let clamped = x.clamped(lowerBound: Vector(repeating: -708), upperBound: Vector(repeating: 708))
        // x = k ln2 + r, |r| <= ln2 / 2, with ln2 split in a high part exact in k * ln2Hi and a low part
        let k: Vector = (clamped * 1.44269504088896338700e+00).rounded(.toNearestOrEven)
        let hi: Vector = clamped - k * 6.93147180369123816490e-01
        let lo: Vector = k * 1.90821492927058770002e-10
        let r: Vector = hi - lo
        let t: Vector = r * r
        var p: Vector = t * 4.13813679705723846039e-08 - 1.65339022054652515390e-06
        p = t * p + 6.61375632143793436117e-05
        p = t * p - 2.77777777770155933842e-03
        p = t * p + 1.66666666666666019037e-01
        let c: Vector = r - t * p
        let y: Vector = 1 - ((lo - (r * c) / (2 - c)) - hi)
        // 2^k from its bits: k + 1.5 * 2^52 puts k in the low mantissa bits; shifting by 52 keeps (k + 1023) mod 2^12
        let kBits = unsafeBitCast(k + 6_755_399_441_055_744.0, to: Bits.self)
        let scale = unsafeBitCast((kBits &+ 1023) &<< 52, to: Vector.self)
        return y * scale
    }

    /// Natural logarithm of positive, finite, normal lanes.
    @inlinable
    public static func log(_ x: Vector) -> Vector {
        let bits = unsafeBitCast(x, to: Bits.self)
        // x = m 2^e with m in [1, 2): exponent through the 2^52 trick (exact, vectorisable)
        let exponentBits = (bits &>> 52) | 0x4330_0000_0000_0000
        var e = unsafeBitCast(exponentBits, to: Vector.self) - (4_503_599_627_370_496.0 + 1023)
        var m = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: Vector.self)
        // m in [sqrt(2)/2, sqrt(2))
        let high = m .> 1.4142135623730951
        m.replace(with: m * 0.5, where: high)
        e.replace(with: e + 1, where: high)
        let f: Vector = m - 1
        let s: Vector = f / (2 + f)
        let z: Vector = s * s, w: Vector = z * z
        var t1: Vector = w * 1.531383769920937332e-01 + 2.222219843214978396e-01
        t1 = w * (w * t1 + 3.999999999940941908e-01)
        var t2: Vector = w * 1.479819860511658591e-01 + 1.818357216161805012e-01
        t2 = w * t2 + 2.857142874366239149e-01
        t2 = z * (w * t2 + 6.666666666666735130e-01)
        let r = t1 + t2, halfSquare: Vector = 0.5 * f * f
        let tail: Vector = s * (halfSquare + r) + e * 1.90821492927058770002e-10
        return e * 6.93147180369123816490e-01 - ((halfSquare - tail) - f)
    }

    /// Arc tangent of non-negative, finite lanes (result in `[0, pi/2)`).
    @inlinable
    public static func atan(_ x: Vector) -> Vector {
        if all(x .>= 2.4375) {  // the common case in ray tracing far from a halo: one reduction for all lanes
            let t: Vector = -1 / x
            return 1.57079632679489655800e+00 - ((t * atanSeries(t * t) - 6.12323399573676603587e-17) - t)
        }
        // Reduce to |t| < 7/16 with atan(x) = atan(c) + atan((x - c)/(1 + c x)), c in {0, 1/2, 1, 3/2, inf}.
        var numerator = x, denominator = Vector(repeating: 1)
        var hi = Vector.zero, lo = Vector.zero
        let r0 = x .>= 0.4375, r1 = x .>= 0.6875, r2 = x .>= 1.1875, r3 = x .>= 2.4375
        numerator.replace(with: 2 * x - 1, where: r0)
        denominator.replace(with: 2 + x, where: r0)
        hi.replace(with: 4.63647609000806093515e-01, where: r0)
        lo.replace(with: 2.26987774529616870924e-17, where: r0)
        numerator.replace(with: x - 1, where: r1)
        denominator.replace(with: x + 1, where: r1)
        hi.replace(with: 7.85398163397448278999e-01, where: r1)
        lo.replace(with: 3.06161699786838301793e-17, where: r1)
        numerator.replace(with: x - 1.5, where: r2)
        denominator.replace(with: 1 + 1.5 * x, where: r2)
        hi.replace(with: 9.82793723247329054082e-01, where: r2)
        lo.replace(with: 1.39033110312309984516e-17, where: r2)
        numerator.replace(with: Vector(repeating: -1), where: r3)
        denominator.replace(with: x, where: r3)
        hi.replace(with: 1.57079632679489655800e+00, where: r3)
        lo.replace(with: 6.12323399573676603587e-17, where: r3)
        let t: Vector = numerator / denominator
        let product: Vector = t * atanSeries(t * t) - lo
        return hi - (product - t)
    }

    /// fdlibm's `s1 + s2` for `atan(t) = t - t (s1 + s2)`, `|t| < 7/16`, from `z = t^2`.
    @inlinable
    static func atanSeries(_ z: Vector) -> Vector {
        let w: Vector = z * z
        var s1: Vector = w * 1.62858201153657823623e-02 + 4.97687799461593236017e-02
        s1 = w * s1 + 6.66107313738753120669e-02
        s1 = w * s1 + 9.09088713343650656196e-02
        s1 = w * s1 + 1.42857142725034663711e-01
        s1 = z * (w * s1 + 3.33333333333329318027e-01)
        var s2: Vector = w * -3.65315727442169155270e-02 - 5.83357013379057348645e-02
        s2 = w * s2 - 7.69187620504482999495e-02
        s2 = w * s2 - 1.11111104054623557880e-01
        s2 = w * (w * s2 - 1.99999999998764832476e-01)
        return s1 + s2
    }
}
