import Foundation

/// AdaMatch's unsupervised-loss weight warm-up (Berthelot et al. 2022, eq. 6):
/// `mu(t) = 1/2 - cos(min(pi, 2 pi t / T)) / 2`, rising from 0 to 1 over the first half of training and staying
/// at 1 afterwards. `T` must be the true number of optimisation steps of the run (the reference package used
/// three times too many, so mu never exceeded 0.75).
public func adaMatchWarmup(step: Int, totalSteps: Int) -> Float {
    precondition(totalSteps > 0, "warm-up needs a positive number of steps, got \(totalSteps)")
    let phase = min(Double.pi, 2 * Double.pi * Double(step) / Double(totalSteps))
    return Float(0.5 - cos(phase) / 2)
}

/// The learning rate of an adapting method at `iteration` of `totalIterations`: constant `settings.learningRate`
/// from random weights (the reference protocol), or, when the method starts from a trained source model,
/// `settings.fineTuningLearningRate` annealed to zero by a half cosine (Loshchilov & Hutter 2017), so the
/// adaptation ends with small steps around a model that is already good on the source domain.
func adaptationLearningRate(_ settings: OptimizerSettings, startsFromSource: Bool, iteration: Int,
                            totalIterations: Int) -> Float {
    guard startsFromSource else { return settings.learningRate }
    let progress = min(1, Double(iteration) / Double(max(1, totalIterations)))
    return settings.fineTuningLearningRate * Float(0.5 * (1 + cos(Double.pi * progress)))
}
