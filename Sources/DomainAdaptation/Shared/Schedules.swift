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
