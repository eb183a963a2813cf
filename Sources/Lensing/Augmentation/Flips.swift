import Core

/// Mirrors each image left-right (`out[c, i, j] = in[c, i, W-1-j]`) with probability `probability`
/// (torchvision `RandomHorizontalFlip`, default p = 0.5).
public struct RandomHorizontalFlip: ImageAugmentation {
    public let probability: Double

    public init(probability: Double = 0.5) { self.probability = probability }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        Flip.horizontal(&image)
    }
}

/// Mirrors each image top-bottom (`out[c, i, j] = in[c, H-1-i, j]`) with probability `probability`
/// (torchvision `RandomVerticalFlip`, default p = 0.5).
public struct RandomVerticalFlip: ImageAugmentation {
    public let probability: Double

    public init(probability: Double = 0.5) { self.probability = probability }

    public func apply(to image: inout ImageBuffer, generator: inout SeededGenerator) {
        guard generator.bernoulli(probability) else { return }
        Flip.vertical(&image)
    }
}

/// In-place mirror images of one image.
public enum Flip {
    /// Mirrors left-right in place.
    public static func horizontal(_ image: inout ImageBuffer) {
        let h = image.height, w = image.width, planes = image.channels
        image.pixels.withUnsafeMutableBufferPointer { p in
            for row in 0..<(planes * h) {
                var a = row * w, b = a + w - 1
                while a < b { p.swapAt(a, b); a += 1; b -= 1 }
            }
        }
    }

    /// Mirrors top-bottom in place.
    public static func vertical(_ image: inout ImageBuffer) {
        let h = image.height, w = image.width, plane = image.planeSize
        image.pixels.withUnsafeMutableBufferPointer { p in
            for c in 0..<image.channels {
                for i in 0..<(h / 2) {
                    let top = c * plane + i * w, bottom = c * plane + (h - 1 - i) * w
                    for j in 0..<w { p.swapAt(top + j, bottom + j) }
                }
            }
        }
    }
}
