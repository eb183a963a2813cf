import Core
import Foundation
import Testing

/// f(x) = 1/2 sum a_i (x_i - c_i)^2, a convex quadratic with minimum at c; gradient a (x - c).
private func quadraticLoss(_ x: Tensor, curvature a: [Float], center c: [Float]) -> Tensor {
    let d = x - Tensor(shape: [c.count], scalars: c)
    return (Tensor(shape: [a.count], scalars: a) * d * d).sum() * 0.5
}

private func setGradient(_ p: Tensor, _ g: [Float]) { p.grad = Tensor(shape: p.shape, scalars: g) }

/// Elementwise |a - b| <= tolerance * max(1, |b|).
private func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
}

@Suite struct OptimizerTests {
    // Tolerances: expectations below are the PyTorch update rules evaluated in double precision, while the
    // optimizers run in float32; a few steps accumulate a few float32 ulps (~1e-7 relative), so 1e-6 is tight.

    @Test func sgdWithMomentumNesterovAndWeightDecayMatchesHandComputation() {
        let p = Tensor(shape: [2], scalars: [1, -2], requiresGrad: true)
        let lr = 0.1, mu = 0.9, wd = 0.01
        let sgd = SGD(parameters: [p], learningRate: Float(lr), momentum: Float(mu), weightDecay: Float(wd), nesterov: true)
        var x = [1.0, -2.0], buf = [0.0, 0.0]
        let grads: [[Double]] = [[0.5, -1.5], [0.25, 2.0], [-1.0, 0.125]]
        for (step, g) in grads.enumerated() {
            setGradient(p, g.map(Float.init))
            sgd.step()
            for i in 0..<2 {
                let d = g[i] + wd * x[i]
                buf[i] = step == 0 ? d : mu * buf[i] + d
                x[i] -= lr * (d + mu * buf[i])
            }
            #expect(close(p.scalars, x))
        }
        // First step by hand: d = 0.5 + 0.01 = 0.51, buf = 0.51, x = 1 - 0.1 (0.51 + 0.9 * 0.51) = 0.9031.
        let p2 = Tensor(shape: [1], scalars: [1], requiresGrad: true)
        let once = SGD(parameters: [p2], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        setGradient(p2, [0.5])
        once.step()
        #expect(close(p2.scalars, [0.9031]))
    }

    @Test func adamMatchesPyTorchUpdateRuleWithL2WeightDecay() {
        let p = Tensor(shape: [3], scalars: [0.5, -1, 2], requiresGrad: true)
        let lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 5e-2
        let adam = Adam(parameters: [p], learningRate: Float(lr), weightDecay: Float(wd))
        var x = [0.5, -1.0, 2.0], m = [0.0, 0.0, 0.0], v = [0.0, 0.0, 0.0]
        let grads: [[Double]] = [[0.1, -0.2, 0.3], [1.0, 0.0, -2.0], [0.01, 0.5, -0.25]]
        for (step, g) in grads.enumerated() {
            setGradient(p, g.map(Float.init))
            adam.step()
            let t = Double(step + 1)
            for i in 0..<3 {
                let gi = g[i] + wd * x[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let denom = v[i].squareRoot() / (1 - pow(b2, t)).squareRoot() + eps
                x[i] -= lr / (1 - pow(b1, t)) * m[i] / denom
            }
            #expect(close(p.scalars, x))
        }
        // First Adam step moves each coordinate by lr * sign(g + wd x) (bias-corrected m/sqrt(v) = +-1).
        let q = Tensor(shape: [2], scalars: [1, 1], requiresGrad: true)
        let first = Adam(parameters: [q], learningRate: 0.1)
        setGradient(q, [3, -0.002])
        first.step()
        #expect(close(q.scalars, [0.9, 1.1], tolerance: 1e-5))
    }

    @Test func adamWDecouplesWeightDecay() {
        let p = Tensor(shape: [2], scalars: [2, -1], requiresGrad: true)
        let lr = 0.01, wd = 0.1
        let adamw = AdamW(parameters: [p], learningRate: Float(lr), weightDecay: Float(wd))
        setGradient(p, [0.5, 0.25])
        adamw.step()
        // Shrink first, then a unit-size Adam step against the raw gradient's sign.
        let expected = [2 * (1 - lr * wd) - lr, -1 * (1 - lr * wd) - lr]
        #expect(close(p.scalars, expected, tolerance: 1e-6))
    }

    @Test func plainSGDContractsAQuadraticGeometrically() {
        let a: [Float] = [1, 4], c: [Float] = [3, -1]
        let x = Tensor(shape: [2], scalars: [0, 0], requiresGrad: true)
        let sgd = SGD(parameters: [x], learningRate: 0.1)
        for _ in 0..<20 {
            sgd.zeroGrad()
            quadraticLoss(x, curvature: a, center: c).backward()
            sgd.step()
        }
        // x_k - c = (1 - lr a)^k (x_0 - c).
        let expected: [Double] = (0..<2).map { i in
            let contraction: Double = pow(1 - 0.1 * Double(a[i]), 20)
            return Double(c[i]) * (1 - contraction)
        }
        #expect(close(x.scalars, expected, tolerance: 1e-5))
    }

    @Test func adamAndSGDReduceAConvexLoss() {
        let a: [Float] = [1, 10, 0.5, 3], c: [Float] = [1, -2, 0.5, 4]
        for makeOptimizer in [{ (p: Tensor) -> Optimizer in Adam(parameters: [p], learningRate: 0.1) },
                              { (p: Tensor) -> Optimizer in SGD(parameters: [p], learningRate: 0.05, momentum: 0.9) }] {
            let x = Tensor.zeros([4], requiresGrad: true)
            let optimizer = makeOptimizer(x)
            let initial = quadraticLoss(x, curvature: a, center: c).item
            var previous = initial
            var decreases = 0
            for _ in 0..<300 {
                optimizer.zeroGrad()
                let loss = quadraticLoss(x, curvature: a, center: c)
                if loss.item < previous { decreases += 1 }
                previous = loss.item
                loss.backward()
                optimizer.step()
            }
            let final = quadraticLoss(x, curvature: a, center: c).item
            #expect(final < 1e-3 * initial, "\(type(of: optimizer)) reached \(final) from \(initial)")
            #expect(decreases > 150)
        }
    }

    @Test func largeTensorsTakeTheVectorisedParallelPathWithTheSameRule() {
        let n = 70_003  // above the parallel threshold and not a multiple of the 8 lanes
        var gen = SeededGenerator(seed: 21)
        let start = gen.uniforms(n, -1, 1)
        let grads = [gen.uniforms(n, -1, 1), gen.uniforms(n, -1, 1)]
        let p = Tensor(shape: [n], scalars: start, requiresGrad: true)
        let q = Tensor(shape: [n], scalars: start, requiresGrad: true)
        let adam = Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
        let sgd = SGD(parameters: [q], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true)
        var x = start.map(Double.init), m = [Double](repeating: 0, count: n), v = m
        var y = x, buf = m
        for (step, g) in grads.enumerated() {
            setGradient(p, g); adam.step()
            setGradient(q, g); sgd.step()
            let t = Double(step + 1)
            for i in 0..<n {
                let gi = Double(g[i]) + 0.1 * x[i]
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                x[i] -= 0.01 / (1 - pow(0.9, t)) * m[i] / (v[i].squareRoot() / (1 - pow(0.999, t)).squareRoot() + 1e-8)
                let d = Double(g[i]) + 0.1 * y[i]
                buf[i] = step == 0 ? d : 0.9 * buf[i] + d
                y[i] -= 0.1 * (d + 0.9 * buf[i])
            }
        }
        // Adam divides by sqrt(v) ~ |g|: tiny gradients amplify float32 rounding, hence 1e-5 rather than 1e-6.
        #expect(close(p.scalars, x, tolerance: 1e-5))
        #expect(close(q.scalars, y, tolerance: 1e-5))
    }

    @Test func stepSkipsParametersWithoutGradientAndBumpsVersion() {
        let a = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let b = Tensor(shape: [2], scalars: [3, 4], requiresGrad: true)
        let adam = Adam(parameters: [a, b])
        setGradient(a, [1, 1])
        let va = a.version, vb = b.version
        adam.step()
        #expect(a.version > va && b.version == vb)
        #expect(b.scalars == [3, 4])
        #expect(adam.stateDict().keys.sorted() == ["lr", "momentum", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.step", "step"])
        adam.zeroGrad()
        #expect(a.grad == nil)
    }

    @Test func stateRestoreContinuesIdentically() throws {
        for kind in 0..<3 {
            func make(_ p: Tensor) -> Optimizer {
                switch kind {
                case 0: return Adam(parameters: [p], learningRate: 0.05, weightDecay: 0.01)
                case 1: return AdamW(parameters: [p], learningRate: 0.05)
                default: return SGD(parameters: [p], learningRate: 0.05, momentum: 0.9, nesterov: true)
                }
            }
            let p = Tensor(shape: [3], scalars: [1, -1, 0.5], requiresGrad: true)
            let original = make(p)
            let grads: [[Float]] = [[0.3, -0.1, 0.2], [0.5, 0.5, -0.5], [-0.2, 0.1, 0.05], [1, 2, 3]]
            for g in grads.prefix(2) { setGradient(p, g); original.step() }
            original.learningRate = 0.02
            original.cycledMomentum = 0.8

            let saved = original.stateDict()
            let q = Tensor(shape: [3], scalars: p.scalars, requiresGrad: true)
            let resumed = make(q)
            try resumed.load(stateDict: saved)
            #expect(resumed.stepCount == 2 && resumed.learningRate == 0.02 && resumed.cycledMomentum == 0.8)
            for g in grads.suffix(2) {
                setGradient(p, g); original.step()
                setGradient(q, g); resumed.step()
            }
            #expect(p.scalars == q.scalars)
        }
    }

    @Test func stateLoadRejectsMisfits() {
        let p = Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
        let adam = Adam(parameters: [p])
        setGradient(p, [1, 1, 1])
        adam.step()
        var state = adam.stateDict()
        let other = Adam(parameters: [Tensor.zeros([4], requiresGrad: true)])
        #expect(throws: OptimizerStateError.shapeMismatch(key: "state.0.exp_avg", expected: [4], found: [3])) {
            try other.load(stateDict: state)
        }
        state["state.1.exp_avg"] = Tensor.zeros([3])
        #expect(throws: OptimizerStateError.unexpectedKeys(["state.1.exp_avg"])) { try adam.load(stateDict: state) }
        #expect(throws: OptimizerStateError.missingKey("step/lr")) { try adam.load(stateDict: StateDict()) }
    }

    @Test func clipGradientNormScalesOnlyAboveTheThreshold() {
        let a = Tensor(shape: [2], scalars: [0, 0], requiresGrad: true)
        let b = Tensor(shape: [1], scalars: [0], requiresGrad: true)
        let c = Tensor(shape: [1], scalars: [0], requiresGrad: true)
        setGradient(a, [3, 4]); setGradient(b, [12])
        let norm = clipGradientNorm([a, b, c], maxNorm: 6.5)
        #expect(norm == 13)
        let k = 6.5 / (13 + 1e-6)
        #expect(close(a.grad!.scalars, [3 * k, 4 * k]) && close(b.grad!.scalars, [12 * k]))
        #expect(c.grad == nil)
        let again = clipGradientNorm([a, b], maxNorm: 10)
        #expect(abs(again - 6.5) < 1e-5)
        #expect(close(a.grad!.scalars, [3 * k, 4 * k]))
    }
}
