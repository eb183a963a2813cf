import Core
import Foundation

/// Erases one random rectangle per image with probability `probability` (Zhong et al. 2020, "Random Erasing
/// Data Augmentation", AAAI; torchvision `RandomErasing`): its area is a fraction of the image drawn from
/// `areaFractions`, its aspect ratio (height / width) log-uniform in `aspectRatios`; up to ten draws are tried
/// until the rectangle fits, otherwise the image is left unchanged. Erased pixels are set to `value`.
public struct RandomErasing: ImageAugmentation {
    public let probability: Double
    public let areaFractions: ClosedRange<Double>
    public let aspectRatios: ClosedRange<Double>
    public let value: Float

    public init(probability: Double = 0.5, areaFractions: ClosedRange<Double> = 0.02...0.33,
                aspectRatios: ClosedRange<Double> = 0.3...3.3, value: Float = 0) {
        precondition(aspectRatios.lowerBound > 0, "aspect ratios must be positive")
        self.probability = probability
        self.areaFractions = areaFractions
        self.aspectRatios = aspectRatios
        self.value = value
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        let h = image.height, w = image.width, area = Double(h * w)
        for _ in 0..<10 {
            let target = area * generator.uniform(areaFractions.lowerBound, areaFractions.upperBound)
            let ratio = Foundation.exp(generator.uniform(Foundation.log(aspectRatios.lowerBound), Foundation.log(aspectRatios.upperBound)))
            let eh = Int((target * ratio).squareRoot().rounded()), ew = Int((target / ratio).squareRoot().rounded())
            guard eh > 0, ew > 0, eh < h, ew < w else { continue }
            let top = generator.nextInt(below: h - eh + 1), left = generator.nextInt(below: w - ew + 1)
            let plane = image.planeSize, fill = value
            image.pixels.withUnsafeMutableBufferPointer { p in
                for c in 0..<image.channels {
                    for i in top..<(top + eh) {
                        for j in left..<(left + ew) { p[c * plane + i * w + j] = fill }
                    }
                }
            }
            return
        }
    }
}
