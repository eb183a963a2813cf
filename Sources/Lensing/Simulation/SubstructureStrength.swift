import Core
import Foundation

/// How visible the substructure of a scene is: `Delta chi^2 = sum_i (I_sub,i - I_smooth,i)^2 / var_i`, the
/// squared difference between the noiseless image and the same scene with its subhalos and vortex removed,
/// over the noise variance of `NoiseModel.variance` (`var_i = I_smooth,i / c + sigma_bg^2`). Both images use the smooth
/// image's normalisation. It is an upper bound on detectability: it knows the smooth scene exactly, which a
/// classifier does not. Below ~25 a perturbation is hard to see even for an ideal model fit.
public enum SubstructureStrength {
    /// Delta chi^2 of `scene` rendered by `renderer`; 0 for a scene without substructure.
    public static func deltaChiSquared(of scene: LensScene, renderer: LensRenderer) -> Double {
        guard !scene.subhalos.isEmpty || scene.vortex != nil else { return 0 }
        var smooth = scene
        smooth.subhalos = []
        smooth.vortex = nil
        let count = renderer.preset.size * renderer.preset.size
        renderer.renderNoiseless(smooth)
        var smoothImage = [Double](repeating: 0, count: count)
        var sourcePeak = 0.0, peak = 0.0
        renderer.withNoiseless { source, light in
            let hasLight = scene.lensLight != nil
            for i in 0..<count {
                smoothImage[i] = Double(source[i]) + (hasLight ? Double(light[i]) : 0)
                peak = max(peak, smoothImage[i])
                sourcePeak = max(sourcePeak, Double(source[i]))
            }
        }
        let scale = peak > 0 ? 1 / peak : 1
        let model = NoiseModel(snr: scene.snr, countsPerUnit: scene.countsPerUnit)
        let sigma = model.backgroundSigma(sourcePeak: sourcePeak * scale)
        renderer.renderNoiseless(scene)
        return renderer.withNoiseless { source, light in
            let hasLight = scene.lensLight != nil
            var sum = 0.0
            for i in 0..<count {
                let smoothValue = smoothImage[i] * scale
                let value = (Double(source[i]) + (hasLight ? Double(light[i]) : 0)) * scale
                let variance = model.variance(intensity: smoothValue, backgroundSigma: sigma)
                sum += (value - smoothValue) * (value - smoothValue) / variance
            }
            return sum
        }
    }

    /// Summary statistics of Delta chi^2 over images of one class.
    public struct Summary: Sendable, Equatable {
        public var count: Int
        public var median: Double
        public var lowerQuartile: Double
        public var upperQuartile: Double
        /// Fraction of images with Delta chi^2 above `threshold`.
        public var fractionAbove: Double
        public var threshold: Double
    }

    /// Delta chi^2 of the first `count` images of class `label` of `simulator`'s `split` stream (the same scenes
    /// `simulate` renders), over `ComputeThreads.count` threads.
    public static func measure(simulator: LensSimulator, label: SubstructureClass, count: Int, seed: UInt64,
                               split: DataSplit = .train) -> [Double] {
        let classes = SubstructureClass.allCases.count
        var values = [Double](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelChunks(count) { range in
                let renderer = simulator.makeRenderer()
                for k in range {
                    let scene = simulator.scene(seed: seed, split: split, index: k * classes + label.rawValue)
                    base[k] = deltaChiSquared(of: scene, renderer: renderer)
                }
            }
        }
        return values
    }

    /// Median, quartiles and the fraction above `threshold` of `values` (linear-interpolated quantiles).
    public static func summarize(_ values: [Double], threshold: Double = 25) -> Summary {
        precondition(!values.isEmpty, "summarize: no values")
        let sorted = values.sorted()
        func quantile(_ p: Double) -> Double {
            let x = p * Double(sorted.count - 1)
            let i = Int(x.rounded(.down)), f = x - Double(i)
            return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
        }
        let above = Double(values.filter { $0 > threshold }.count) / Double(values.count)
        return Summary(count: values.count, median: quantile(0.5), lowerQuartile: quantile(0.25),
                       upperQuartile: quantile(0.75), fractionAbove: above, threshold: threshold)
    }
}
