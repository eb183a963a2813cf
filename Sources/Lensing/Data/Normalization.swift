import Core

/// Pixel normalisation applied by the loader, image by image.
///
/// The reference project trains on raw pixels (no normalisation). Strong augmentations that assume pixels in
/// `[0, 1]` (autocontrast, invert, solarize, sharpness; see `Augmentations`) need `.perImageMinMax` first.
public enum Normalization: Equatable, Sendable {
    /// Raw pixels.
    case none
    /// Each image mapped linearly to `[0, 1]` by its own minimum and maximum (a constant image becomes 0).
    case perImageMinMax
    /// `(x - mean) / std` with statistics of a whole data set (see `datasetStandardization(of:)`).
    case standardization(mean: Float, std: Float)

    /// Mean and standard deviation over every pixel of `dataset`, so that training and test sets can be
    /// normalised with the training statistics. Computed in double precision over fixed chunks of images,
    /// merged with Chan et al.'s parallel variance update (Chan, Golub & LeVeque 1983), so the result does not
    /// depend on the thread count. A zero standard deviation is replaced by 1.
    public static func datasetStandardization(of dataset: DeepLenseDataset) -> Normalization {
        let (mean, variance) = pixelMoments(dataset.images)
        let std = variance.squareRoot()
        return .standardization(mean: Float(mean), std: std > 0 ? Float(std) : 1)
    }

    /// Normalises `imageCount` consecutive images of `pixelsPerImage` floats in place.
    public func apply(to pixels: UnsafeMutableBufferPointer<Float>, pixelsPerImage: Int) {
        guard pixelsPerImage > 0 else { return }
        switch self {
        case .none:
            return
        case .perImageMinMax:
            for start in stride(from: 0, to: pixels.count, by: pixelsPerImage) {
                var low = Float.infinity, high = -Float.infinity
                for i in start..<(start + pixelsPerImage) {
                    low = Swift.min(low, pixels[i])
                    high = Swift.max(high, pixels[i])
                }
                let scale: Float = high > low ? 1 / (high - low) : 0
                for i in start..<(start + pixelsPerImage) { pixels[i] = (pixels[i] - low) * scale }
            }
        case .standardization(let mean, let std):
            let inverse = 1 / std
            for i in 0..<pixels.count { pixels[i] = (pixels[i] - mean) * inverse }
        }
    }

    /// Population mean and variance of all elements of `array`.
    static func pixelMoments(_ array: NpyArray) -> (mean: Double, variance: Double) {
        let chunk = 256
        let chunkCount = (array.itemCount + chunk - 1) / chunk
        var partial = [(count: Double, mean: Double, m2: Double)](repeating: (0, 0, 0), count: chunkCount)
        partial.withUnsafeMutableBufferPointer { out in
            parallelFor(chunkCount) { c in
                let values = array.floats(items: (c * chunk)..<Swift.min(array.itemCount, (c + 1) * chunk))
                var sum = 0.0
                for v in values { sum += Double(v) }
                let mean = sum / Double(max(values.count, 1))
                var m2 = 0.0
                for v in values { m2 += (Double(v) - mean) * (Double(v) - mean) }
                out[c] = (Double(values.count), mean, m2)
            }
        }
        var total = (count: 0.0, mean: 0.0, m2: 0.0)
        for p in partial where p.count > 0 {
            let n = total.count + p.count
            let delta = p.mean - total.mean
            total = (n, total.mean + delta * p.count / n, total.m2 + p.m2 + delta * delta * total.count * p.count / n)
        }
        return (total.mean, total.count > 0 ? total.m2 / total.count : 0)
    }
}
