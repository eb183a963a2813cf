import Foundation

/// The Gaussian of standard deviation `sigma`, `g(d) = exp(-d^2 / (2 sigma^2))` (peak 1 at `d = 0`), and the
/// discrete kernels built from it: blurs (torchvision's `GaussianBlur`, anti-aliased pooling), the point-spread
/// function of the lens simulator, steerable-basis rings and footprints, smooth test fields, mask fall-offs.
package enum Gaussian {
    /// How a kernel tap is taken from the continuous Gaussian.
    package enum Sampling: Sendable {
        /// The value at the tap's centre offset `d` (torchvision's `_get_gaussian_kernel1d`).
        case point
        /// The integral over the tap's pixel `[d - 1/2, d + 1/2]`:
        /// `(erf((d + 1/2) / (sigma sqrt 2)) - erf((d - 1/2) / (sigma sqrt 2))) / 2`.
        case pixelIntegral
    }

    /// `exp(-d^2 / (2 sigma^2))`.
    package static func profile(_ d: Double, sigma: Double) -> Double {
        Foundation.exp(-d * d / (2 * sigma * sigma))
    }

    /// `exp(-r2 / (2 sigma^2))` for a squared distance `r2` (the isotropic 2-D Gaussian).
    package static func profile(squaredDistance r2: Double, sigma: Double) -> Double {
        Foundation.exp(-r2 / (2 * sigma * sigma))
    }

    /// The 1-D kernel at the integer `offsets` (in their order), normalised to sum 1 over them.
    package static func kernel(offsets: some Collection<Int>, sigma: Double, sampling: Sampling = .point) -> [Double] {
        precondition(sigma > 0, "a Gaussian kernel needs a positive sigma, got \(sigma)")
        let values: [Double]
        switch sampling {
        case .point:
            values = offsets.map { profile(Double($0), sigma: sigma) }
        case .pixelIntegral:
            let scale = 1 / (sigma * 2.0.squareRoot())
            values = offsets.map { 0.5 * (erf((Double($0) + 0.5) * scale) - erf((Double($0) - 0.5) * scale)) }
        }
        let total = values.reduce(0, +)
        return values.map { $0 / total }
    }

    /// The centred 1-D kernel of odd `size` (offsets `-(size-1)/2 ... (size-1)/2`), normalised to sum 1. The
    /// isotropic 2-D kernel is its outer product with itself (the Gaussian is separable).
    package static func kernel(size: Int, sigma: Double, sampling: Sampling = .point) -> [Double] {
        precondition(size > 0 && size % 2 == 1, "a centred Gaussian kernel needs an odd size, got \(size)")
        return kernel(offsets: -(size / 2)...(size / 2), sigma: sigma, sampling: sampling)
    }
}
