import Core
import TestSupport
import Testing

/// A tensor holding 0, 1, 2, ... in row-major order.
func arange(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map(Float.init), requiresGrad: requiresGrad)
}

@Suite struct ReductionTests {
    @Test func sumOverAxesValuesAndShapes() {
        let x = arange([2, 3, 4])
        let s1 = x.sum(axes: [1])
        #expect(s1.shape == [2, 4])
        // x.sum(1) for x = arange(24).view(2,3,4): [[12,15,18,21],[48,51,54,57]]
        #expect(s1.scalars == [12, 15, 18, 21, 48, 51, 54, 57])
        let s02 = x.sum(axes: [0, -1], keepingDims: true)
        #expect(s02.shape == [1, 3, 1])
        // rows j: sum_{i,k} (12 i + 4 j + k) = 2*(4*4j + 6) + 4*12 = 32 j + 60
        #expect(s02.scalars == [60, 92, 124])
        let s12 = x.sum(axes: [1, 2])
        #expect(s12.shape == [2] && s12.scalars == [66, 210])
        let all = x.sum(axes: [0, 1, 2])
        #expect(all.shape == [] && all.item == 276)
        let none = x.sum(axes: [])
        #expect(none.shape == [2, 3, 4] && none.scalars == x.scalars)
    }

    @Test func meanOverAxes() {
        let x = arange([2, 3, 4])
        let m = x.mean(axes: [0, 2])
        #expect(m.shape == [3])
        #expect(m.scalars == [7.5, 11.5, 15.5])
        #expect(x.mean(axes: [1], keepingDims: true).shape == [2, 1, 4])
        #expect(x.mean().item == 11.5)
    }

    @Test func sumOfLongRowsMatchesDoublePrecision() {
        // 1003 is not a multiple of the 8-wide accumulator, so the scalar tail is exercised too.
        let x = testTensor([3, 1003], seed: 5, requiresGrad: false)
        let s = x.sum(axes: [1]).scalars
        for r in 0..<3 {
            let reference = x.scalars[(r * 1003)..<((r + 1) * 1003)].reduce(0.0) { $0 + Double($1) }
            // 1003 float additions in 8 chains of ~125: relative round-off ~125 * 6e-8 of the absolute sum.
            #expect(Swift.abs(Double(s[r]) - reference) < 1e-4)
        }
    }

    @Test func fullSumOfALargeTensorSplitOverThreads() {
        let x = testTensor([300_001], seed: 6, low: 0, high: 1, requiresGrad: false)
        let reference = x.scalars.reduce(0.0) { $0 + Double($1) }
        // Float strips of 4096 (8 chains of 512 additions, relative round-off ~512 * 6e-8 = 3e-5 per strip at
        // worst, far less on average) summed in double: 1e-5 relative is a safe bound.
        #expect(Swift.abs(Double(x.sum().item) - reference) < 1e-5 * reference)
        // Sums over many rows (parallel over output elements), including a strided middle axis.
        let y = testTensor([64, 40, 33], seed: 7, requiresGrad: false)
        let s = y.sum(axes: [1]).scalars
        for (o, i) in [(0, 0), (31, 17), (63, 32)] {
            let ref = (0..<40).reduce(0.0) { $0 + Double(y.scalars[(o * 40 + $1) * 33 + i]) }
            #expect(Swift.abs(Double(s[o * 33 + i]) - ref) < 1e-5)
        }
    }

    @Test func sumAndMeanGradients() {
        let x = testTensor([2, 3, 4, 5], seed: 31)
        for axes in [[0], [1], [3], [0, 2], [1, 2], [2, 3], [0, 1, 2, 3], [-1, 0]] {
            #expect(gradientCheckError([x]) { $0[0].sum(axes: axes) } < gradientTolerance, "sum \(axes)")
            #expect(gradientCheckError([x]) { $0[0].mean(axes: axes, keepingDims: true) } < gradientTolerance, "mean \(axes)")
        }
        #expect(gradientCheckError([x]) { $0[0].sum() } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].mean() } < gradientTolerance)
    }

    @Test func maxAndArgmax() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, -1, 7])
        let m1 = x.max(axis: 1)
        #expect(m1.shape == [2] && m1.scalars == [5, 7])
        #expect(x.argmax(axis: 1) == [1, 0])  // first maximum on ties, like torch.argmax
        let m0 = x.max(axis: 0, keepingDims: true)
        #expect(m0.shape == [1, 3] && m0.scalars == [7, 5, 7])
        #expect(x.argmax(axis: 0) == [1, 0, 1])
        #expect(x.argmax(axis: -1) == [1, 0])
    }

    @Test func maxGradientGoesToTheMaximum() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, -1, 3], requiresGrad: true)
        (x.max(axis: 1) * Tensor(shape: [2], scalars: [2, 3])).sum().backward()
        #expect(x.grad!.scalars == [0, 2, 0, 3, 0, 0])
        // Distinct values 0.1 apart: a perturbation of 1e-2 never changes which element is the maximum.
        var generator = SeededGenerator(seed: 3)
        let values = generator.permutation(60).map { Float($0) / 10 - 3 }
        let y = Tensor(shape: [3, 4, 5], scalars: values, requiresGrad: true)
        for axis in 0..<3 {
            #expect(gradientCheckError([y]) { $0[0].max(axis: axis) } < gradientTolerance, "max axis \(axis)")
        }
    }
}
