import Core
import Foundation
import TestSupport
import Testing

/// Softmax along `axis` computed in double precision by index arithmetic, as the reference.
func naiveSoftmax(_ x: Tensor, axis: Int) -> [Double] {
    let outer = x.shape[..<axis].reduce(1, *), n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
    var out = [Double](repeating: 0, count: x.count)
    for o in 0..<outer {
        for i in 0..<inner {
            let idx = (0..<n).map { (o * n + $0) * inner + i }
            let m = idx.map { Double(x.scalars[$0]) }.max()!
            let s = idx.reduce(0.0) { $0 + Foundation.exp(Double(x.scalars[$1]) - m) }
            for k in idx { out[k] = Foundation.exp(Double(x.scalars[k]) - m) / s }
        }
    }
    return out
}

@Suite struct SoftmaxTests {
    @Test func knownValues() {
        // torch.softmax(torch.tensor([1., 2., 3.]), 0) -> [0.0900306, 0.2447285, 0.6652409]
        let x = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        expectClose(x.softmax().scalars, [0.0900306, 0.2447285, 0.6652409])
        // torch.log_softmax(torch.tensor([1., 2., 3.]), 0) -> [-2.4076059, -1.4076059, -0.4076059]
        expectClose(x.logSoftmax().scalars, [-2.4076059, -1.4076059, -0.4076059])
    }

    @Test func largeLogitsStayFinite() {
        let x = Tensor(shape: [2, 2], scalars: [1000, 1001, -1000, -1e30])
        expectClose(x.softmax().scalars, [0.26894142, 0.73105858, 1, 0])
        let l = x.logSoftmax().scalars
        expectClose(Array(l[0..<3]), [-1.3132616, -0.3132616, 0])
        #expect(l.allSatisfy { !$0.isNaN })
    }

    @Test func everyAxisMatchesTheDoubleReference() {
        let x = testTensor([3, 4, 5], seed: 61, low: -3, high: 3, requiresGrad: false)
        for axis in 0..<3 {
            let reference = naiveSoftmax(x, axis: axis)
            let s = x.softmax(axis: axis).scalars, l = x.logSoftmax(axis: axis).scalars
            for k in 0..<x.count {
                #expect(Swift.abs(Double(s[k]) - reference[k]) < 1e-6)
                #expect(Swift.abs(Double(l[k]) - Foundation.log(reference[k])) < 1e-5)
            }
        }
    }

    @Test func gradientsAlongEveryAxis() {
        let x = testTensor([2, 3, 4], seed: 62, low: -2, high: 2)
        for axis in [0, 1, -1] {
            #expect(gradientCheckError([x]) { $0[0].softmax(axis: axis) } < gradientTolerance, "softmax \(axis)")
            #expect(gradientCheckError([x]) { $0[0].logSoftmax(axis: axis) } < gradientTolerance, "logSoftmax \(axis)")
        }
    }

    @Test func manyRowsUseTheParallelPath() {
        let x = testTensor([4096, 33], seed: 63, low: -4, high: 4, requiresGrad: false)
        let s = x.softmax().scalars
        for row in stride(from: 0, to: 4096, by: 511) {
            let total = s[(row * 33)..<((row + 1) * 33)].reduce(0, +)
            #expect(Swift.abs(total - 1) < 1e-5)
        }
        let ref = naiveSoftmax(x.slice(axis: 0, range: 4000..<4001), axis: 1)
        for j in 0..<33 { #expect(Swift.abs(Double(s[4000 * 33 + j]) - ref[j]) < 1e-6) }
        // A middle axis with many blocks: the strided path split over threads.
        let y = testTensor([400, 7, 50], seed: 64, low: -4, high: 4, requiresGrad: false)
        let middle = y.logSoftmax(axis: 1).scalars
        let reference = naiveSoftmax(y, axis: 1)
        var worst = 0.0
        for k in 0..<y.count { worst = Swift.max(worst, Swift.abs(Double(middle[k]) - Foundation.log(reference[k]))) }
        #expect(worst < 1e-5)
    }
}
