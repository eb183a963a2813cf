import Core
import Foundation
import Testing

/// PyTorch's formulas evaluated in double precision; schedules compute in double and round once to Float,
/// so values agree to float32 rounding (relative 1e-6).
private func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) <= 1e-6 * max(abs(b), 1e-12) }

@Suite struct SchedulerTests {
    @Test func oneCycleFollowsPyTorchDefaults() {
        let p = Tensor.zeros([1], requiresGrad: true)
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        let total = 100, maxLR = 1e-3
        let schedule = OneCycleLR(optimizer: adam, maxLearningRate: Float(maxLR), totalSteps: total)
        let initial = maxLR / 25, minimum = initial / 1e4
        let riseEnd = 0.3 * Double(total) - 1  // 29
        func cosine(_ start: Double, _ end: Double, _ pct: Double) -> Double { end + (start - end) / 2 * (cos(Double.pi * pct) + 1) }
        func expected(_ step: Int) -> (lr: Double, momentum: Double) {
            let s = Double(step)
            if s <= riseEnd { return (cosine(initial, maxLR, s / riseEnd), cosine(0.95, 0.85, s / riseEnd)) }
            let pct = (s - riseEnd) / (Double(total - 1) - riseEnd)
            return (cosine(maxLR, minimum, pct), cosine(0.85, 0.95, pct))
        }
        #expect(close(adam.learningRate, initial) && close(adam.beta1, 0.95))
        for step in 1..<total {
            schedule.step()
            let (lr, momentum) = expected(step)
            #expect(close(adam.learningRate, lr), "step \(step): \(adam.learningRate) vs \(lr)")
            #expect(close(adam.beta1, momentum), "step \(step)")
        }
        #expect(close(schedule.learningRate(at: 29), maxLR))
        #expect(close(schedule.learningRate(at: 99), minimum))
        // Python: 1e-3 + (4e-5 - 1e-3) / 2 * (math.cos(math.pi * 10 / 29) + 1) = 0.00029516394846410075
        #expect(close(schedule.learningRate(at: 10), 0.00029516394846410075))
    }

    @Test func oneCycleLinearAndThreePhase() {
        let sgd = SGD(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 1, momentum: 0.9)
        let linear = OneCycleLR(optimizer: sgd, maxLearningRate: 1, totalSteps: 11, pctStart: 0.5, annealing: .linear)
        // Phase ends at 0.5 * 11 - 1 = 4.5 and 10; linear interpolation 0.04 -> 1 -> 4e-6.
        #expect(close(linear.learningRate(at: 0), 0.04))
        #expect(close(linear.learningRate(at: 3), 0.04 + (1 - 0.04) * 3 / 4.5))
        #expect(close(linear.learningRate(at: 7), 1 + (4e-6 - 1) * (7 - 4.5) / 5.5))
        #expect(close(linear.momentum(at: 3)!, 0.95 + (0.85 - 0.95) * 3 / 4.5))
        let three = OneCycleLR(optimizer: sgd, maxLearningRate: 1, totalSteps: 20, pctStart: 0.25, annealing: .linear, threePhase: true)
        // Phase ends 4, 8, 19: up to max, back to initial, down to minimum.
        #expect(close(three.learningRate(at: 4), 1) && close(three.learningRate(at: 8), 0.04))
        #expect(close(three.learningRate(at: 19), 4e-6))
        #expect(close(three.learningRate(at: 6), 0.52))
    }

    @Test func cosineAndStepSchedules() {
        let sgd = SGD(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 0.1)
        let cosineLR = CosineLR(optimizer: sgd, totalSteps: 10, minimumLearningRate: 0.001)
        for step in 0...12 {
            let t = Double(min(step, 10)) / 10
            #expect(close(cosineLR.learningRate(at: step), 0.001 + (0.1 - 0.001) * (1 + cos(Double.pi * t)) / 2))
        }
        cosineLR.step(); cosineLR.step()
        #expect(sgd.learningRate == cosineLR.learningRate(at: 2))

        let sgd2 = SGD(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 0.5)
        let stepLR = StepLR(optimizer: sgd2, stepSize: 3, gamma: 0.5)
        var seen: [Float] = [sgd2.learningRate]
        for _ in 0..<7 { stepLR.step(); seen.append(sgd2.learningRate) }
        #expect(seen == [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125])
    }

    @Test func restoreJumpsToAStep() {
        let adam = Adam(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 1e-3)
        let schedule = OneCycleLR(optimizer: adam, maxLearningRate: 1e-3, totalSteps: 50)
        for _ in 0..<17 { schedule.step() }
        let lr = adam.learningRate, beta1 = adam.beta1
        let adam2 = Adam(parameters: [Tensor.zeros([1], requiresGrad: true)], learningRate: 1e-3)
        let resumed = OneCycleLR(optimizer: adam2, maxLearningRate: 1e-3, totalSteps: 50)
        resumed.restore(stepCount: 17)
        #expect(adam2.learningRate == lr && adam2.beta1 == beta1 && resumed.stepCount == 17)
    }
}
