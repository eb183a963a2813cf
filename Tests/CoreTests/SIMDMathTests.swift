import Core
import Foundation
import Testing

@Suite struct SIMDMathTests {
    /// Largest error of `simd` against libm over `values`, in units in the last place of libm's result.
    func worstULPs(_ values: [Double], _ simd: (SIMDMath.Vector) -> SIMDMath.Vector, _ reference: (Double) -> Double) -> Double {
        var worst = 0.0, width = SIMDMath.width
        let padded = values + Array(repeating: 1, count: (width - values.count % width) % width)
        for start in stride(from: 0, to: padded.count, by: width) {
            let lanes = SIMDMath.Vector(padded[start..<(start + width)])
            let result = simd(lanes)
            for l in 0..<width {
                let expected = reference(lanes[l])
                worst = max(worst, abs(result[l] - expected) / max(expected.magnitude.ulp, Double.leastNormalMagnitude))
            }
        }
        return worst
    }

    /// Log-uniform samples over 600 decades, plus the neighbourhood of 1 (where log is small and reduction is
    /// most delicate) and the reduction's switch points sqrt(2) / 2 and sqrt(2).
    @Test func logIsWithinTwoULPsOfLibm() {
        var g = SeededGenerator(seed: 3)
        var values = (0..<20_000).map { _ in Foundation.pow(10, -300 + 600 * g.nextUniformDouble()) }
        values += (0..<4_000).map { _ in 1 + (g.nextUniformDouble() - 0.5) * 1e-3 }
        values += (0..<4_000).map { i in (i % 2 == 0 ? 0.7071067811865476 : 1.4142135623730951) * (1 + (g.nextUniformDouble() - 0.5) * 1e-9) }
        values += [1, 2, 0.5, Double.leastNormalMagnitude, Double.greatestFiniteMagnitude, 1e-12, 1 + 1e-15]
        #expect(worstULPs(values, SIMDMath.log, Foundation.log) <= 2)
    }

    /// Uniform samples over the whole normal range [-708, 708], dense ones on [-30, 10] (the Sersic profile's
    /// exponents), and the rounding boundaries of the reduction at half-integer multiples of ln 2.
    @Test func expIsWithinTwoULPsOfLibm() {
        var g = SeededGenerator(seed: 5)
        var values = (0..<20_000).map { _ in -708 + 1416 * g.nextUniformDouble() }
        values += (0..<20_000).map { _ in -30 + 40 * g.nextUniformDouble() }
        for k in -20...20 { let b = (Double(k) + 0.5) * M_LN2; values += [b.nextDown, b, b.nextUp, -b] }
        values += [0, 1, -1, 1e-300, -1e-300, 708, -708]
        #expect(worstULPs(values, SIMDMath.exp, Foundation.exp) <= 2)
    }

    /// Uniform samples on [0, 3] (all five reduction intervals), log-uniform ones up to 1e300, and the
    /// interval boundaries 7/16, 11/16, 19/16, 39/16.
    @Test func atanIsWithinTwoULPsOfLibm() {
        var g = SeededGenerator(seed: 4)
        var values = (0..<20_000).map { _ in 3 * g.nextUniformDouble() }
        values += (0..<8_000).map { _ in Foundation.pow(10, -300 + 600 * g.nextUniformDouble()) }
        for b in [0.4375, 0.6875, 1.1875, 2.4375] { values += [b.nextDown, b, b.nextUp, b * (1 + 1e-12)] }
        values += [0, 1e-320, 1, 1e308]
        #expect(worstULPs(values, SIMDMath.atan, Foundation.atan) <= 2)
    }
}
