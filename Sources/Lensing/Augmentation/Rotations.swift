import Core

/// Rotates each image by a uniformly random number of quarter turns (0, 90, 180 or 270 degrees
/// counterclockwise), an exact pixel permutation (`ImageRotation.rot90`). Lensing images have no preferred
/// orientation, so this and the flips generate the dihedral group D4 of exact symmetries. Square images only.
public struct RandomRot90: ImageAugmentation {
    public init() {}

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        precondition(image.height == image.width, "RandomRot90 needs square images, got \(image.height)x\(image.width)")
        let times = generator.nextInt(below: 4)
        guard times != 0 else { return }
        image.pixels = ImageRotation.rot90(image.tensor, times: times).scalars
    }
}

/// Rotates each image about its centre by an angle drawn uniformly from `degrees` (counterclockwise positive),
/// keeping the canvas; regions rotated in from outside read zero.
///
/// `.bandLimited` rotates by three Fourier shears (Unser, Thevenaz & Yaroslavsky 1995, "Convolution-based
/// interpolation for fast, high-quality rotation of images"), exact for band-limited images; `.bilinear`
/// interpolates bilinearly, which is cheaper but blurs (torchvision `RandomRotation` uses nearest or bilinear).
public struct RandomRotation: ImageAugmentation {
    public let degrees: ClosedRange<Double>
    public let method: RotationMethod

    public init(degrees: ClosedRange<Double> = -180...180, method: RotationMethod = .bandLimited) {
        self.degrees = degrees
        self.method = method
    }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        let angle = generator.uniform(degrees.lowerBound, degrees.upperBound)
        if method == .bandLimited {
            precondition(image.height == image.width, "band-limited rotation keeps the canvas only for square images")
        }
        image.pixels = ImageRotation.rotate(image.tensor, degrees: angle, method: method).scalars
    }
}
