import Core
import Foundation

/// Renders `LensScene`s: backward ray tracing with `supersampling x supersampling` rays per pixel, Gaussian
/// PSF (`GaussianPSFConvolver`), normalisation and noise (`NoiseModel`).
///
/// For every ray `theta` the deflection of the main lens, the shear, the subhalos (`SubhaloField`) and the
/// vortex is summed, the source is evaluated at `beta = theta - alpha`, the lens light at `theta`, and the
/// rays of a pixel are averaged. Physics in `Double`; the image is `Float`. The source is skipped where its
/// elliptical radius exceeds `(1 + 25/b_n)^n R_sersic` (intensity below `e^-25` of the centre).
/// One renderer owns its buffers and serves one thread; rendering allocates nothing per pixel.
public final class LensRenderer {
    public let preset: ImagePreset
    public let supersampling: Int
    private let rayCount: Int
    private var rayCoordinates: [Double]
    private var rowAlphaX: [Double]
    private var rowAlphaY: [Double]
    private var sourceSum: [Double]
    private var lightSum: [Double]
    private var sourceImage: [Float]
    private var lightImage: [Float]
    private let psf: GaussianPSFConvolver

    /// - Parameters:
    ///   - preset: the pixel grid.
    ///   - supersampling: rays per pixel side (>= 1; 2 gives 4 rays per pixel).
    ///   - maximumPSFSigma: the widest PSF (arcsec) the renderer must handle.
    public init(preset: ImagePreset, supersampling: Int = 2, maximumPSFSigma: Double = 0.2) {
        precondition(supersampling >= 1, "supersampling must be >= 1, got \(supersampling)")
        self.preset = preset
        self.supersampling = supersampling
        let size = preset.size
        rayCount = size * supersampling
        let s = Double(supersampling)
        rayCoordinates = (0..<rayCount).map { i in ((Double(i) + 0.5) / s - Double(size) / 2) * preset.pixelScale }
        rowAlphaX = [Double](repeating: 0, count: rayCount)
        rowAlphaY = rowAlphaX
        sourceSum = [Double](repeating: 0, count: size * size)
        lightSum = sourceSum
        sourceImage = [Float](repeating: 0, count: size * size)
        lightImage = sourceImage
        psf = GaussianPSFConvolver(size: size, maximumSigmaPixels: maximumPSFSigma / preset.pixelScale)
    }

    /// Largest deflection error of the subhalo far field, in pixels (`SubhaloField` evaluates each TNFW exactly only
    /// where it differs from a point mass by more): 1e-3 px moves an arc's intensity by about 0.1 %, far below the noise.
    static let subhaloTolerancePixels = 1e-3

    /// Renders the noiseless lensed source and lens light (both PSF-convolved, unnormalised) of `scene`.
    /// The results stay in the renderer until the next call; read them with `withNoiseless`.
    public func renderNoiseless(_ scene: LensScene) {
        let size = preset.size, s = supersampling, n = rayCount
        let field = SubhaloField(subhalos: scene.subhalos, tolerance: Self.subhaloTolerancePixels * preset.pixelScale)
        let lens = scene.mainLens, shear = scene.shear, vortex = scene.vortex
        let source = scene.source, light = scene.lensLight
        let cutoff = pow(1 + 25 / source.bn, 2 * source.nSersic)
        let lightCutoff = light.map { pow(1 + 25 / $0.bn, 2 * $0.nSersic) } ?? 0
        let weight = 1 / Double(s * s), width = SIMDMath.width
        sourceSum.withUnsafeMutableBufferPointer { srcSum in
            lightSum.withUnsafeMutableBufferPointer { litSum in
                srcSum.update(repeating: 0)
                litSum.update(repeating: 0)
                rayCoordinates.withUnsafeBufferPointer { xs in
                    rowAlphaX.withUnsafeMutableBufferPointer { ax in
                        rowAlphaY.withUnsafeMutableBufferPointer { ay in
                            for j in 0..<n {
                                let y = xs[j]
                                for i in 0..<n {
                                    let a = lens.deflection(x: xs[i], y: y) + shear.deflection(x: xs[i], y: y)
                                    ax[i] = a.x
                                    ay[i] = a.y
                                }
                                field.accumulate(rowY: y, xs: xs.baseAddress!, count: n,
                                                 alphaX: ax.baseAddress!, alphaY: ay.baseAddress!)
                                if let vortex {
                                    for i in 0..<n {
                                        let a = vortex.deflection(x: xs[i], y: y)
                                        ax[i] += a.x
                                        ay[i] += a.y
                                    }
                                }
                                let rowBase = (j / s) * size
                                var i = 0
                                while i < n {
                                    // SIMDMath.width rays at a time (the last group may repeat its last ray; only real ones add)
                                    let lanes = min(width, n - i)
                                    var rayX = SIMDMath.Vector(), betaX = SIMDMath.Vector(), betaY = SIMDMath.Vector()
                                    for l in 0..<width {
                                        let k = i + min(l, lanes - 1)
                                        rayX[l] = xs[k]
                                        betaX[l] = xs[k] - ax[k]
                                        betaY[l] = y - ay[k]
                                    }
                                    let lensed = source.intensity(x: betaX, y: betaY, cutoff: cutoff)
                                    for l in 0..<lanes { srcSum[rowBase + (i + l) / s] += weight * lensed[l] }
                                    if let light {
                                        let glow = light.intensity(x: rayX, y: SIMDMath.Vector(repeating: y), cutoff: lightCutoff)
                                        for l in 0..<lanes { litSum[rowBase + (i + l) / s] += weight * glow[l] }
                                    }
                                    i += width
                                }
                            }
                        }
                    }
                }
            }
        }
        let sigmaPixels = scene.psfSigma / preset.pixelScale
        // through buffer pointers: element access to the class's arrays would check exclusivity per pixel
        sourceSum.withUnsafeBufferPointer { sums in
            sourceImage.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = Float(sums[i]) } }
        }
        lightSum.withUnsafeBufferPointer { sums in
            lightImage.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = Float(sums[i]) } }
        }
        sourceImage.withUnsafeMutableBufferPointer { psf.convolve($0, sigmaPixels: sigmaPixels) }
        if light != nil {
            lightImage.withUnsafeMutableBufferPointer { psf.convolve($0, sigmaPixels: sigmaPixels) }
        }
    }

    /// Gives read access to the last noiseless lensed-source and lens-light images (`size * size`, row-major).
    public func withNoiseless<R>(_ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> R) -> R {
        sourceImage.withUnsafeBufferPointer { s in lightImage.withUnsafeBufferPointer { l in body(s, l) } }
    }

    /// Renders `scene` into `output` (`size * size` floats): noiseless image scaled to peak 1, then noise
    /// drawn from `generator` (see `NoiseModel`), then `gain * pixel + skyLevel` (identity for gain 1, sky 0).
    /// Returns the background sigma used (before the gain).
    @discardableResult
    public func render(_ scene: LensScene, into output: UnsafeMutableBufferPointer<Float>,
                       generator: inout SeededGenerator, noise: Bool = true) -> Double {
        let count = preset.size * preset.size
        precondition(output.count == count, "render: output holds \(output.count) floats, need \(count)")
        renderNoiseless(scene)
        var peak: Float = 0, sourcePeak: Float = 0
        let hasLight = scene.lensLight != nil
        withNoiseless { source, light in
            for i in 0..<count {
                let v = source[i] + (hasLight ? light[i] : 0)
                output[i] = v
                peak = max(peak, v)
                sourcePeak = max(sourcePeak, source[i])
            }
        }
        let scale = peak > 0 ? 1 / peak : 1
        for i in 0..<count { output[i] *= scale }
        let model = NoiseModel(snr: scene.snr, countsPerUnit: scene.countsPerUnit)
        let sigma = model.backgroundSigma(sourcePeak: Double(sourcePeak * scale))
        if noise { model.apply(to: output, backgroundSigma: sigma, generator: &generator) }
        if scene.gain != 1 || scene.skyLevel != 0 {
            let gain = Float(scene.gain), sky = Float(scene.skyLevel)
            for i in 0..<count { output[i] = gain * output[i] + sky }
        }
        return sigma
    }
}
