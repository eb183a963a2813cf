import Core
import Foundation

/// Separable Gaussian blur with `sigma` drawn per image from `sigmas` (torchvision `GaussianBlur`: the kernel is
/// `exp(-x^2 / (2 sigma^2))` sampled at `x = -(k-1)/2 ... (k-1)/2` and normalised to sum 1; the same sigma on
/// both axes). `kernelWidth` runs along rows (x), `kernelHeight` along columns (y): the reference package's
/// `kernel_size=(5, 9)` is width 5, height 9. Both must be odd.
///
/// Borders are padded by reflection without repeating the edge pixel (PyTorch `reflect`, the torchvision
/// default), or periodically (`.circular`), which preserves the image sum exactly.
public struct GaussianBlur: ImageAugmentation {
    public enum Boundary: Sendable { case reflect, circular }

    public let kernelWidth: Int
    public let kernelHeight: Int
    public let sigmas: ClosedRange<Double>
    public let boundary: Boundary

    public init(kernelWidth: Int = 5, kernelHeight: Int = 9, sigmas: ClosedRange<Double> = 0.1...1,
                boundary: Boundary = .reflect) {
        precondition(kernelWidth > 0 && kernelWidth % 2 == 1 && kernelHeight > 0 && kernelHeight % 2 == 1,
                     "Gaussian kernel sizes must be positive and odd, got \(kernelWidth)x\(kernelHeight)")
        precondition(sigmas.lowerBound > 0, "sigma must be positive")
        self.kernelWidth = kernelWidth
        self.kernelHeight = kernelHeight
        self.sigmas = sigmas
        self.boundary = boundary
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        let sigma = generator.uniform(sigmas.lowerBound, sigmas.upperBound)
        GaussianBlur.blur(&image, kernelWidth: kernelWidth, kernelHeight: kernelHeight, sigma: sigma, boundary: boundary)
    }

    /// The normalised 1-D kernel of odd `size` (`Gaussian.kernel`).
    public static func kernel(size: Int, sigma: Double) -> [Float] {
        Gaussian.kernel(size: size, sigma: sigma).map(Float.init)
    }

    /// The deterministic transform.
    public static func blur(_ image: inout ImageBuffer, kernelWidth: Int, kernelHeight: Int, sigma: Double,
                            boundary: Boundary = .reflect) {
        let h = image.height, w = image.width, plane = image.planeSize
        let kx = kernel(size: kernelWidth, sigma: sigma), ky = kernel(size: kernelHeight, sigma: sigma)
        let columnIndex = paddedIndices(extent: w, radius: kernelWidth / 2, boundary: boundary)
        let rowIndex = paddedIndices(extent: h, radius: kernelHeight / 2, boundary: boundary)
        var temporary = [Float](repeating: 0, count: plane)
        for c in 0..<image.channels {
            image.pixels.withUnsafeMutableBufferPointer { p in
                temporary.withUnsafeMutableBufferPointer { t in
                    kx.withUnsafeBufferPointer { kx in
                        ky.withUnsafeBufferPointer { ky in
                            columnIndex.withUnsafeBufferPointer { ci in
                                rowIndex.withUnsafeBufferPointer { ri in
                                    let base = c * plane
                                    for i in 0..<h {
                                        for j in 0..<w {
                                            var s: Float = 0
                                            for k in 0..<kx.count { s += kx[k] * p[base + i * w + ci[j + k]] }
                                            t[i * w + j] = s
                                        }
                                    }
                                    for i in 0..<h {
                                        for j in 0..<w {
                                            var s: Float = 0
                                            for k in 0..<ky.count { s += ky[k] * t[ri[i + k] * w + j] }
                                            p[base + i * w + j] = s
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Source index for each padded position `-radius ..< extent + radius`.
    static func paddedIndices(extent n: Int, radius: Int, boundary: Boundary) -> [Int] {
        (-radius..<(n + radius)).map { i in
            switch boundary {
            case .circular:
                return ((i % n) + n) % n
            case .reflect:
                guard n > 1 else { return 0 }
                let period = 2 * (n - 1)
                let m = ((i % period) + period) % period
                return m < n ? m : period - m
            }
        }
    }
}
