import Core
import TestSupport
import Testing

@Suite struct ArithmeticTests {
    @Test func broadcastingAddSubMulDivGradients() {
        let a = testTensor([2, 3, 4], seed: 1)
        let b = testTensor([3, 1], seed: 2, low: 0.5, high: 1.5)
        #expect(gradientCheckError([a, b]) { ($0[0] + $0[1]) } < 2e-3)
        #expect(gradientCheckError([a, b]) { ($0[0] - $0[1]) } < 2e-3)
        #expect(gradientCheckError([a, b]) { ($0[0] * $0[1]) } < 2e-3)
        #expect(gradientCheckError([a, b], epsilon: 1e-3) { ($0[0] / $0[1]) } < 5e-3)
    }

    @Test func broadcastShapeAndValues() {
        let a = Tensor(shape: [2, 1], scalars: [1, 2])
        let b = Tensor(shape: [3], scalars: [10, 20, 30])
        let c = a + b
        #expect(c.shape == [2, 3])
        #expect(c.scalars == [11, 21, 31, 12, 22, 32])
    }

    @Test func matmulMatchesNaiveAndGradient() {
        let a = testTensor([5, 7], seed: 3), b = testTensor([7, 4], seed: 4)
        let c = a.matmul(b)
        for i in 0..<5 { for j in 0..<4 {
            var s: Float = 0
            for k in 0..<7 { s += a.scalars[i * 7 + k] * b.scalars[k * 4 + j] }
            #expect(abs(c.scalars[i * 4 + j] - s) < 1e-5)
        } }
        #expect(gradientCheckError([a, b]) { $0[0].matmul($0[1]) } < 2e-3)
    }

    @Test func gradientAccumulatesAcrossBackwardCalls() {
        let x = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [5, 7])
    }

    @Test func noGradientScopeAndDetach() {
        let x = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let y = withoutGradient { x * x }
        #expect(!y.requiresGrad)
        let z = (x.detached() * x).sum()
        z.backward()
        #expect(x.grad!.scalars == [1, 2])
    }

    @Test func gradientsWrtSubsetDoNotTouchGrad() {
        let x = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let w = Tensor(shape: [2], scalars: [3, 4], requiresGrad: true)
        let loss = (x * w).sum()
        let gs = loss.gradients(wrt: [w])
        #expect(gs[0].scalars == [1, 2])
        #expect(x.grad == nil && w.grad == nil)
    }
}
