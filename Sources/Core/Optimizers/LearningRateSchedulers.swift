import Foundation

/// The base of learning-rate schedules that drive an optimizer step by step, with PyTorch's protocol:
/// construction sets the step-0 learning rate, and each `step()` (called after `optimizer.step()`) advances
/// the count and sets the next rate. The learning rate is a pure function of `stepCount`, so resuming
/// needs only `restore(stepCount:)`.
open class LearningRateScheduler {
    public let optimizer: Optimizer
    /// The learning rate the optimizer had when the schedule was made (PyTorch's `initial_lr`).
    public let baseLearningRate: Float
    /// Number of `step()` calls so far (PyTorch's `last_epoch`).
    public private(set) var stepCount = 0

    public init(optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLearningRate = optimizer.learningRate
    }

    /// The learning rate after `step` scheduler steps.
    open func learningRate(at step: Int) -> Float { baseLearningRate }

    /// The cycled momentum after `step` scheduler steps, or nil if this schedule leaves momentum alone.
    open func momentum(at step: Int) -> Float? { nil }

    /// Advances one step and sets the optimizer's learning rate (and momentum, if cycled).
    public func step() { restore(stepCount: stepCount + 1) }

    /// Jumps to `stepCount` (for resuming) and sets the optimizer's learning rate accordingly.
    public func restore(stepCount: Int) {
        precondition(stepCount >= 0, "scheduler step count must be >= 0, got \(stepCount)")
        self.stepCount = stepCount
        apply()
    }

    /// Sets the optimizer's values for the current step; subclasses call this at the end of `init`.
    public func apply() {
        optimizer.learningRate = learningRate(at: stepCount)
        if let m = momentum(at: stepCount) { optimizer.cycledMomentum = m }
    }
}

/// PyTorch `StepLR`: `lr = base * gamma^floor(step / stepSize)`.
public final class StepLR: LearningRateScheduler {
    public let stepSize: Int
    public let gamma: Float

    public init(optimizer: Optimizer, stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepLR: step size must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer: optimizer)
        apply()
    }

    public override func learningRate(at step: Int) -> Float {
        Float(Double(baseLearningRate) * Foundation.pow(Double(gamma), Double(step / stepSize)))
    }
}

/// Cosine annealing (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017),
/// PyTorch `CosineAnnealingLR` closed form without restarts:
/// `lr = min + (base - min) (1 + cos(pi * min(step, totalSteps) / totalSteps)) / 2`.
public final class CosineLR: LearningRateScheduler {
    public let totalSteps: Int
    public let minimumLearningRate: Float

    public init(optimizer: Optimizer, totalSteps: Int, minimumLearningRate: Float = 0) {
        precondition(totalSteps > 0, "CosineLR: total steps must be positive, got \(totalSteps)")
        self.totalSteps = totalSteps
        self.minimumLearningRate = minimumLearningRate
        super.init(optimizer: optimizer)
        apply()
    }

    public override func learningRate(at step: Int) -> Float {
        let t = Double(Swift.min(step, totalSteps)) / Double(totalSteps)
        let lo = Double(minimumLearningRate), hi = Double(baseLearningRate)
        return Float(lo + (hi - lo) * (1 + cos(Double.pi * t)) / 2)
    }
}

/// The one-cycle policy (Smith & Topin, "Super-Convergence", 2019) with PyTorch `OneCycleLR` semantics and
/// defaults: the rate rises from `max / divFactor` to `max` over the first `pctStart` of the steps, then
/// anneals to `max / divFactor / finalDivFactor`; momentum (SGD momentum or Adam beta1) moves the opposite way
/// between `maxMomentum` and `baseMomentum`. Phase ends are at steps `pctStart * totalSteps - 1` and
/// `totalSteps - 1`; past `totalSteps` the last value is kept (PyTorch raises there).
public final class OneCycleLR: LearningRateScheduler {
    public enum Annealing: Sendable { case cosine, linear }

    public let maxLearningRate: Float
    public let totalSteps: Int
    public let pctStart: Double
    public let annealing: Annealing
    public let divFactor: Float
    public let finalDivFactor: Float
    public let cycleMomentum: Bool
    public let baseMomentum: Float
    public let maxMomentum: Float
    public let threePhase: Bool

    public init(optimizer: Optimizer, maxLearningRate: Float, totalSteps: Int, pctStart: Double = 0.3,
                annealing: Annealing = .cosine, cycleMomentum: Bool = true, baseMomentum: Float = 0.85,
                maxMomentum: Float = 0.95, divFactor: Float = 25, finalDivFactor: Float = 1e4, threePhase: Bool = false) {
        precondition(totalSteps > 0, "OneCycleLR: total steps must be positive, got \(totalSteps)")
        precondition(pctStart >= 0 && pctStart <= 1, "OneCycleLR: pctStart must be in [0, 1], got \(pctStart)")
        self.maxLearningRate = maxLearningRate
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.annealing = annealing
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.cycleMomentum = cycleMomentum && optimizer.cycledMomentum != nil
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
        self.threePhase = threePhase
        super.init(optimizer: optimizer)
        apply()
    }

    /// Phases as (end step, start lr, end lr, start momentum, end momentum).
    private var phases: [(end: Double, lr: (Double, Double), momentum: (Double, Double))] {
        let initial = Double(maxLearningRate) / Double(divFactor)
        let minimum = initial / Double(finalDivFactor)
        let peak = Double(maxLearningRate), lowM = Double(baseMomentum), highM = Double(maxMomentum)
        let rise = pctStart * Double(totalSteps) - 1, last = Double(totalSteps - 1)
        if threePhase {
            return [(rise, (initial, peak), (highM, lowM)),
                    (2 * pctStart * Double(totalSteps) - 2, (peak, initial), (lowM, highM)),
                    (last, (initial, minimum), (highM, highM))]
        }
        return [(rise, (initial, peak), (highM, lowM)), (last, (peak, minimum), (lowM, highM))]
    }

    private func anneal(_ range: (Double, Double), _ pct: Double) -> Double {
        switch annealing {
        case .cosine: return range.1 + (range.0 - range.1) / 2 * (cos(Double.pi * pct) + 1)
        case .linear: return (range.1 - range.0) * pct + range.0
        }
    }

    private func values(at step: Int) -> (lr: Double, momentum: Double) {
        let s = Double(Swift.min(step, totalSteps))
        var start = 0.0
        let all = phases
        for (i, phase) in all.enumerated() {
            if s <= phase.end || i == all.count - 1 {
                let pct = phase.end > start ? (s - start) / (phase.end - start) : 1
                return (anneal(phase.lr, pct), anneal(phase.momentum, pct))
            }
            start = phase.end
        }
        return (Double(maxLearningRate), Double(baseMomentum))
    }

    public override func learningRate(at step: Int) -> Float { Float(values(at: step).lr) }

    public override func momentum(at step: Int) -> Float? { cycleMomentum ? Float(values(at: step).momentum) : nil }
}
