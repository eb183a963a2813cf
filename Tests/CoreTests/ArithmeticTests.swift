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

    /// Reference broadcast by explicit index arithmetic.
    static func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (shape: [Int], values: [Float]) {
        let rank = max(a.rank, b.rank)
        let pa = [Int](repeating: 1, count: rank - a.rank) + a.shape, pb = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let shape = zip(pa, pb).map { max($0, $1) }
        func flat(_ index: [Int], _ s: [Int]) -> Int {
            var offset = 0
            for (i, e) in zip(index, s) { offset = offset * e + (e == 1 ? 0 : i) }
            return offset
        }
        var values: [Float] = [], index = [Int](repeating: 0, count: rank)
        for _ in 0..<shape.reduce(1, *) {
            values.append(f(a.scalars[flat(index, pa)], b.scalars[flat(index, pb)]))
            var axis = rank - 1
            while axis >= 0 { index[axis] += 1; if index[axis] < shape[axis] { break }; index[axis] = 0; axis -= 1 }
        }
        return (shape, values)
    }

    @Test func broadcastPatternsMatchNaive() {
        let shapes: [([Int], [Int])] = [
            ([2, 3, 4, 5], [3, 1, 1]), ([2, 3, 4, 5], [1, 3, 1, 1]), ([1, 4, 1], [2, 1, 5]), ([2, 3], []),
            ([], [4, 2]), ([5], [2, 3, 5]), ([2, 1, 3], [2, 4, 1]), ([3, 1], [3, 1]), ([], []), ([2, 1, 1, 3], [1, 2, 2, 1]),
        ]
        for (sa, sb) in shapes {
            let a = testTensor(sa, seed: 7, requiresGrad: false), b = testTensor(sb, seed: 8, low: 0.5, high: 2, requiresGrad: false)
            for (op, f) in [("+", { (x: Float, y: Float) in x + y }), ("-", { $0 - $1 }), ("*", { $0 * $1 }), ("/", { $0 / $1 })] {
                let c: Tensor
                switch op { case "+": c = a + b; case "-": c = a - b; case "*": c = a * b; default: c = a / b }
                let reference = Self.naiveBroadcast(a, b, f)
                #expect(c.shape == reference.shape, "\(sa) \(op) \(sb)")
                #expect(c.scalars == reference.values, "\(sa) \(op) \(sb)")
            }
        }
        // Large enough to be split over threads mid-row.
        let big = testTensor([3, 7, 4099], seed: 9, requiresGrad: false), row = testTensor([7, 1], seed: 10, requiresGrad: false)
        #expect((big * row).scalars == Self.naiveBroadcast(big, row, *).values)
        #expect((big + 2).scalars == big.scalars.map { $0 + 2 })
    }

    @Test func broadcastGradientsForEveryPattern() {
        let shapes: [([Int], [Int])] = [([2, 3, 2, 2], [3, 1, 1]), ([1, 4, 1], [2, 1, 3]), ([2, 3], []), ([3], [2, 2, 3])]
        for (sa, sb) in shapes {
            let a = testTensor(sa, seed: 11), b = testTensor(sb, seed: 12, low: 0.5, high: 1.5)
            #expect(gradientCheckError([a, b]) { $0[0] + $0[1] } < 2e-3)
            #expect(gradientCheckError([a, b]) { $0[0] - $0[1] } < 2e-3)
            #expect(gradientCheckError([a, b]) { $0[0] * $0[1] } < 2e-3)
            #expect(gradientCheckError([a, b], epsilon: 1e-3) { $0[0] / $0[1] } < 5e-3)
            #expect(gradientCheckError([a, b], epsilon: 1e-3) { $0[1] / ($0[0] + 3) } < 5e-3)
        }
        let x = testTensor([2, 3], seed: 13)
        #expect(gradientCheckError([x]) { -$0[0] * 2 + 1 } < 2e-3)
        #expect(gradientCheckError([x], epsilon: 1e-3) { 1 / ($0[0] + 2) - 3 } < 5e-3)
    }
}
