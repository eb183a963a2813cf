import Core
import Foundation

/// Convolution of square images with a Gaussian point-spread function through FFTW (plans from
/// `FFTPlanCache`, made once per padded size).
///
/// The image is zero-padded by `padding` pixels on every side so the circular convolution does not wrap;
/// the kernel is the Gaussian integrated over each pixel (`erf` differences, separable), wrapped onto the
/// padded grid and normalised to sum 1, so the total flux of the padded image is conserved exactly (up to
/// float rounding); light scattered beyond the image edge is lost, as on a detector.
/// One instance holds its buffers and is used by one thread at a time.
public final class GaussianPSFConvolver {
    public let size: Int
    public let padding: Int
    public let paddedSize: Int
    private let forward: FFTPlan
    private let inverse: FFTPlan
    private let realBuffer: FFTBuffer
    private let spectrum: FFTBuffer
    private let kernelReal: FFTBuffer
    private let kernelSpectrum: FFTBuffer
    private var kernelSigma = -1.0

    /// - Parameters:
    ///   - size: image side in pixels.
    ///   - maximumSigmaPixels: the widest PSF (in pixels) this convolver will be asked for; sets the padding
    ///     to `ceil(4 sigma)` so wrap-around is below `exp(-8)` of the kernel peak.
    public init(size: Int, maximumSigmaPixels: Double) {
        self.size = size
        padding = max(2, Int((4 * maximumSigmaPixels).rounded(.up)))
        var padded = size + 2 * padding
        padded += (8 - padded % 8) % 8
        paddedSize = padded
        let half = padded / 2 + 1
        forward = FFTPlanCache.shared.plan(for: FFTDescriptor(
            kind: .realToComplex,
            dimensions: [FFTAxis(count: padded, inputStride: padded, outputStride: half),
                         FFTAxis(count: padded, inputStride: 1, outputStride: 1)],
            batch: []))
        inverse = FFTPlanCache.shared.plan(for: FFTDescriptor(
            kind: .complexToReal,
            dimensions: [FFTAxis(count: padded, inputStride: half, outputStride: padded),
                         FFTAxis(count: padded, inputStride: 1, outputStride: 1)],
            batch: []))
        realBuffer = FFTBuffer(count: padded * padded)
        spectrum = FFTBuffer(count: 2 * padded * half)
        kernelReal = FFTBuffer(count: padded * padded)
        kernelSpectrum = FFTBuffer(count: 2 * padded * half)
    }

    private func prepareKernel(sigmaPixels sigma: Double) {
        guard sigma != kernelSigma else { return }
        kernelSigma = sigma
        let n = paddedSize
        let weights = Gaussian.kernel(offsets: (0..<n).map { $0 <= n / 2 ? $0 : $0 - n }, sigma: sigma, sampling: .pixelIntegral)
        let k = kernelReal.pointer
        for r in 0..<n {
            for c in 0..<n { k[r * n + c] = Float(weights[r] * weights[c]) }
        }
        forward.execute(input: kernelReal.pointer, output: kernelSpectrum.pointer)
    }

    /// Convolves `image` (`size * size` floats, row-major) in place with a Gaussian of standard deviation
    /// `sigmaPixels` (pixels). A non-positive sigma leaves the image unchanged.
    public func convolve(_ image: UnsafeMutableBufferPointer<Float>, sigmaPixels: Double) {
        precondition(image.count == size * size, "PSF: expected \(size * size) pixels, got \(image.count)")
        guard sigmaPixels > 0 else { return }
        precondition(sigmaPixels <= Double(padding) / 4 + 1e-9, "PSF sigma \(sigmaPixels) px exceeds the planned maximum")
        prepareKernel(sigmaPixels: sigmaPixels)
        let n = paddedSize, half = n / 2 + 1
        let buffer = realBuffer.pointer
        buffer.update(repeating: 0, count: n * n)
        for r in 0..<size {
            (buffer + (r + padding) * n + padding).update(from: image.baseAddress! + r * size, count: size)
        }
        forward.execute(input: buffer, output: spectrum.pointer)
        let s = spectrum.pointer, k = kernelSpectrum.pointer
        let norm = 1 / Float(n * n)
        for i in 0..<(n * half) {
            let ar = s[2 * i], ai = s[2 * i + 1], br = k[2 * i], bi = k[2 * i + 1]
            s[2 * i] = (ar * br - ai * bi) * norm
            s[2 * i + 1] = (ar * bi + ai * br) * norm
        }
        inverse.execute(input: spectrum.pointer, output: buffer)
        for r in 0..<size {
            (image.baseAddress! + r * size).update(from: buffer + (r + padding) * n + padding, count: size)
        }
    }
}
