import Core
import Foundation
import TestSupport
import Testing

/// Gradient tolerance for float32 central differences with epsilon 1e-2 (see `gradientCheckError`):
/// round-off contributes ~1e-7 |f| / 1e-2 = 1e-5 per unit of objective and truncation ~epsilon^2 |f'''| / 6,
/// about 2e-5 for these smooth functions on [-2, 2]; 2e-3 leaves room for objectives summing tens of terms
/// while a wrong derivative (an error of order 1) still fails by orders of magnitude.
let gradientTolerance = 2e-3

/// A test tensor whose entries keep at least `gap` away from zero (to avoid the kinks of relu, abs, ...).
func awayFromZero(_ shape: [Int], seed: UInt64, gap: Float = 0.1) -> Tensor {
    let t = testTensor(shape, seed: seed)
    return Tensor(shape: shape, scalars: t.scalars.map { $0 >= 0 ? $0 + gap : $0 - gap }, requiresGrad: true)
}

func expectClose(_ a: [Float], _ b: [Float], _ tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) {
        #expect(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y)), "\(a) vs \(b)", sourceLocation: sourceLocation)
    }
}

@Suite struct ElementwiseOpsTests {
    @Test func mathFunctionValues() {
        let x = Tensor(shape: [3], scalars: [0, 1, -1])
        expectClose(x.exp().scalars, [1, 2.7182817, 0.36787944])
        expectClose(Tensor(shape: [2], scalars: [1, 2.7182817]).log().scalars, [0, 1])
        expectClose(Tensor(shape: [2], scalars: [4, 9]).sqrt().scalars, [2, 3])
        expectClose(Tensor(shape: [2], scalars: [2, 3]).pow(3).scalars, [8, 27])
        expectClose(Tensor(shape: [2], scalars: [4, 9]).pow(-0.5).scalars, [0.5, 1.0 / 3])
        expectClose(Tensor(shape: [2], scalars: [-2, 3]).abs().scalars, [2, 3])
        expectClose(Tensor(shape: [3], scalars: [-2, 0.5, 3]).clamped(min: -1, max: 1).scalars, [-1, 0.5, 1])
        expectClose(Tensor(shape: [2], scalars: [-2, 3]).clamped(min: 0).scalars, [0, 3])
        expectClose(Tensor(shape: [2], scalars: [-2, 3]).clamped(max: 1).scalars, [-2, 1])
    }

    @Test func activationValues() {
        let x = Tensor(shape: [4], scalars: [-2, -0.5, 0, 3])
        expectClose(x.relu().scalars, [0, 0, 0, 3])
        expectClose(x.leakyRelu(slope: 0.1).scalars, [-0.2, -0.05, 0, 3])
        // torch.nn.functional.elu(torch.tensor([-2., -0.5, 0., 3.]), alpha=1.5)
        //   -> [-1.2969970, -0.5902040, 0., 3.]
        expectClose(x.elu(alpha: 1.5).scalars, [-1.2969970, -0.5902040, 0, 3])
        // torch.sigmoid(torch.tensor([-2., -0.5, 0., 3.])) -> [0.1192029, 0.3775407, 0.5, 0.9525741]
        expectClose(x.sigmoid().scalars, [0.1192029, 0.3775407, 0.5, 0.9525741])
        // torch.tanh(torch.tensor([-2., -0.5, 0., 3.])) -> [-0.9640276, -0.4621172, 0., 0.9950548]
        expectClose(x.tanh().scalars, [-0.9640276, -0.4621172, 0, 0.9950548])
        let extreme = Tensor(shape: [2], scalars: [-200, 200]).sigmoid().scalars
        #expect(extreme[0] >= 0 && extreme[0] < 1e-30 && extreme[1] == 1)
    }

    @Test func mathFunctionGradients() {
        let x = testTensor([3, 4], seed: 11)
        let positive = testTensor([3, 4], seed: 12, low: 0.5, high: 2)
        #expect(gradientCheckError([x]) { $0[0].exp() } < gradientTolerance)
        #expect(gradientCheckError([positive], epsilon: 1e-3) { $0[0].log() } < gradientTolerance)
        #expect(gradientCheckError([positive], epsilon: 1e-3) { $0[0].sqrt() } < gradientTolerance)
        for p: Float in [2, 3, 0.5, -1.5, 1, 0] {
            #expect(gradientCheckError([positive], epsilon: 1e-3) { $0[0].pow(p) } < gradientTolerance, "pow \(p)")
        }
        #expect(gradientCheckError([x]) { $0[0].pow(2) } < gradientTolerance)
        let a = awayFromZero([3, 4], seed: 13)
        #expect(gradientCheckError([a]) { $0[0].abs() } < gradientTolerance)
        // Bounds at +-0.55 sit between the entries of `a` (|a| in [0.1, 1.1]) only if no entry is within
        // epsilon of them; shift the bounds if a seed change ever puts one there.
        #expect(a.scalars.allSatisfy { Swift.abs(Swift.abs($0) - 0.55) > 0.02 })
        #expect(gradientCheckError([a]) { $0[0].clamped(min: -0.55, max: 0.55) } < gradientTolerance)
    }

    @Test func activationGradients() {
        let a = awayFromZero([2, 3, 4], seed: 21)
        #expect(gradientCheckError([a]) { $0[0].relu() } < gradientTolerance)
        #expect(gradientCheckError([a]) { $0[0].leakyRelu(slope: 0.2) } < gradientTolerance)
        #expect(gradientCheckError([a]) { $0[0].elu(alpha: 0.7) } < gradientTolerance)
        let x = testTensor([2, 3, 4], seed: 22, low: -3, high: 3)
        #expect(gradientCheckError([x]) { $0[0].sigmoid() } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].tanh() } < gradientTolerance)
    }

    @Test func subgradientsAtKinks() {
        let x = Tensor(shape: [3], scalars: [-1, 0, 1], requiresGrad: true)
        x.relu().sum().backward()
        #expect(x.grad!.scalars == [0, 0, 1])
        x.grad = nil
        x.abs().sum().backward()
        #expect(x.grad!.scalars == [-1, 0, 1])
        x.grad = nil
        // torch.clamp passes the gradient at the bounds themselves.
        x.clamped(min: -1, max: 0).sum().backward()
        #expect(x.grad!.scalars == [1, 1, 0])
    }

    @Test func largeTensorsTakeTheParallelPathWithTheSameValues() {
        let n = 200_000
        let x = Tensor(shape: [n], scalars: (0..<n).map { Float($0 % 97) / 10 - 4 })
        let y = x.sigmoid().scalars
        for i in stride(from: 0, to: n, by: 9973) {
            let v = Double(x.scalars[i])
            #expect(Swift.abs(Double(y[i]) - 1 / (1 + Foundation.exp(-v))) < 1e-6)
        }
    }
}

@Suite struct DropoutTests {
    @Test func seededMaskWithInvertedScaling() {
        let x = Tensor.ones([10_000])
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let y1 = x.dropout(probability: 0.3, generator: &g1), y2 = x.dropout(probability: 0.3, generator: &g2)
        #expect(y1.scalars == y2.scalars)
        #expect(g1 == g2)
        let kept = y1.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 1 / 0.7) < 1e-6 })
        // Binomial(10000, 0.7): standard deviation 46, so 5 sigma is +-230.
        #expect(Swift.abs(kept.count - 7000) < 230)
        var g3 = SeededGenerator(seed: 6)
        #expect(x.dropout(probability: 0.3, generator: &g3).scalars != y1.scalars)
    }

    @Test func edgeProbabilities() {
        let x = testTensor([4, 5], seed: 95, requiresGrad: false)
        var g = SeededGenerator(seed: 1)
        #expect(x.dropout(probability: 0, generator: &g).scalars == x.scalars)
        #expect(x.dropout(probability: 1, generator: &g).scalars.allSatisfy { $0 == 0 })
    }

    @Test func gradientUsesTheSameMask() {
        let x = testTensor([4, 6], seed: 96)
        #expect(gradientCheckError([x]) { t in
            var g = SeededGenerator(seed: 9)
            return t[0].dropout(probability: 0.5, generator: &g)
        } < gradientTolerance)
        var g = SeededGenerator(seed: 9)
        x.grad = nil
        let y = x.dropout(probability: 0.5, generator: &g)
        y.sum().backward()
        #expect(x.grad!.scalars == y.scalars.map { $0 == 0 ? 0 : 2 })
    }
}
