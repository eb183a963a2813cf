import Foundation
import Testing
@testable import Core

@Suite struct FFTPlanCacheTests {
    /// Naive real DFT `X_k = sum_n x_n exp(-2 pi i k n / N)` in double precision.
    func naiveSpectrum(_ x: [Float]) -> [(Double, Double)] {
        let n = x.count
        return (0...(n / 2)).map { k in
            var re = 0.0, im = 0.0
            for t in 0..<n {
                let a = -2 * Double.pi * Double(k * t) / Double(n)
                re += Double(x[t]) * cos(a)
                im += Double(x[t]) * sin(a)
            }
            return (re, im)
        }
    }

    @Test func realToComplexMatchesNaiveDFT() {
        let length = 12, rows = 3
        let plan = FFTPlanCache.shared.rowPlan(.realToComplex, length: length, count: rows)
        let input = FFTBuffer(count: length * rows), output = FFTBuffer(count: (length / 2 + 1) * 2 * rows)
        for i in 0..<input.count { input.pointer[i] = Float(sin(Double(i) * 0.7) + 0.1 * Double(i % 5)) }
        plan.execute(input: input.pointer, output: output.pointer)
        var worst = 0.0
        for r in 0..<rows {
            let expected = naiveSpectrum(Array(input.buffer[(r * length)..<((r + 1) * length)]))
            for (k, (re, im)) in expected.enumerated() {
                let o = (r * (length / 2 + 1) + k) * 2
                worst = max(worst, abs(Double(output.pointer[o]) - re), abs(Double(output.pointer[o + 1]) - im))
            }
        }
        // float32 FFT of O(1) data with 12 points: round-off ~ 1e-6 * log2(12) * |x|_1.
        #expect(worst < 1e-5)
    }

    @Test func complexToRealInvertsRealToComplexUpToLength() {
        let length = 16, rows = 5
        let forward = FFTPlanCache.shared.rowPlan(.realToComplex, length: length, count: rows)
        let inverse = FFTPlanCache.shared.rowPlan(.complexToReal, length: length, count: rows)
        let x = FFTBuffer(count: length * rows), spectrum = FFTBuffer(count: (length / 2 + 1) * 2 * rows)
        let back = FFTBuffer(count: length * rows)
        for i in 0..<x.count { x.pointer[i] = Float((i * 37) % 11) - 5 }
        forward.execute(input: x.pointer, output: spectrum.pointer)
        inverse.execute(input: spectrum.pointer, output: back.pointer)
        var worst: Float = 0
        for i in 0..<x.count { worst = max(worst, abs(back.pointer[i] / Float(length) - x.pointer[i])) }
        #expect(worst < 1e-5)
    }

    @Test func plansAreCreatedOncePerDescriptorAndShared() {
        let cache = FFTPlanCache()
        let a = cache.rowPlan(.forward, length: 8, count: 100)
        let b = cache.rowPlan(.forward, length: 8, count: 100)
        let c = cache.rowPlan(.forward, length: 8, count: 101)
        #expect(a === b)
        #expect(a !== c)
        #expect(cache.planCount == 2)
    }

    /// `removeAll` forgets the plans (a plan still held keeps working; the next request plans anew).
    @Test func removeAllReplansOnNextRequest() {
        let cache = FFTPlanCache()
        let a = cache.rowPlan(.realToComplex, length: 8, count: 3)
        cache.removeAll()
        let b = cache.rowPlan(.realToComplex, length: 8, count: 3)
        #expect(a !== b)
        #expect(cache.planCount == 2)
        let input = FFTBuffer(count: 24), x = FFTBuffer(count: 30), y = FFTBuffer(count: 30)
        for i in 0..<24 { input.pointer[i] = Float(i % 5) }
        a.execute(input: input.pointer, output: x.pointer)
        b.execute(input: input.pointer, output: y.pointer)
        #expect(Array(x.buffer) == Array(y.buffer))
    }

    @Test func concurrentRequestsGetOnePlan() {
        let cache = FFTPlanCache()
        let found = LockedValue<[ObjectIdentifier]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let plan = cache.rowPlan(.realToComplex, length: 30, count: 7)
            found.withLock { $0.append(ObjectIdentifier(plan)) }
        }
        #expect(Set(found.value).count == 1)
        #expect(cache.planCount == 1)
    }

    @Test func misalignedArraysAreHandled() {
        let length = 8
        let plan = FFTPlanCache.shared.rowPlan(.forward, length: length, count: 1)
        var input = [Float](repeating: 0, count: 2 * length + 1), output = [Float](repeating: 0, count: 2 * length + 1)
        for k in 0..<length { input[1 + 2 * k] = 1 }  // real ones, offset by one float
        input.withUnsafeMutableBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in plan.execute(input: i.baseAddress! + 1, output: o.baseAddress! + 1) }
        }
        #expect(abs(output[1] - Float(length)) < 1e-6)
        #expect(output[3...].allSatisfy { abs($0) < 1e-6 })
    }
}
