import ArgumentParser
import Core
import Foundation
import Lensing

/// `deeplense simulate`: writes a balanced, deterministic simulated data set in the DeepLense layout
/// (`<prefix>_<split>_data.npy` float32 `(N, 1, H, W)`, `<prefix>_<split>_labels.npy` int64 `(N,)`).
public struct SimulateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate Model A or Model B strong-lensing images (no substructure / CDM subhalos / vortex).")

    @OptionGroup var scene: SimulatedDomainOptions
    @Option(help: "Split: train or test (disjoint random streams).")
    var split: String = "train"
    @Option(help: "Number of images (classes cycle 0,1,2 so they are balanced).")
    var count: Int
    @Option(parsing: .unconditional, help: "Random seed (non-negative); the same seed gives the same bits on any thread count.",
            transform: parseSeed)
    var seed: UInt64 = 0
    @Option(help: "Output directory (created if missing).")
    var out: String
    @Option(help: "File prefix (default: the domain letter in lower case).")
    var prefix: String?
    @Option(help: "Rays per pixel side (supersampling).")
    var supersampling: Int = 2
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: "Override the CDM subhalo mass scale (default: the domain's, \(DomainPriors.substructure.massScale)); for studies of substructure strength.")
    var massScale: Double?
    @Option(help: "Observing conditions for appearance-shift studies: Gaussian PSF sigma in arcsec (overrides the domain's).")
    var psfSigma: Double?
    @Option(help: "Observing conditions: peak signal-to-noise ratio of the lensed source (overrides the domain's).")
    var snr: Double?
    @Option(help: "Observing conditions: detector gain multiplying every noisy pixel (default 1).")
    var gain: Double?
    @Option(help: "Observing conditions: sky level added to every pixel after the gain, in units of the image peak (default 0).")
    var sky: Double?
    @Flag(help: "Also write <prefix>_<split>_preview.png with sample images per class.")
    var preview = false
    @Flag(help: "No progress bar.")
    var quiet = false

    public init() {}

    public func validate() throws {
        if let psfSigma, !(psfSigma > 0 && psfSigma <= 0.5) { throw ValidationError("--psf-sigma must lie in (0, 0.5] arcsec, got \(psfSigma)") }
        if let snr, !(snr > 0 && snr.isFinite) { throw ValidationError("--snr must be positive, got \(snr)") }
        if let gain, !(gain > 0 && gain.isFinite) { throw ValidationError("--gain must be positive, got \(gain)") }
        if let sky, !sky.isFinite { throw ValidationError("--sky must be finite, got \(sky)") }
        guard DataSplit(rawValue: split) != nil else { throw ValidationError("unknown split '\(split)': use train or test") }
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard (1...8).contains(supersampling) else { throw ValidationError("--supersampling must be in 1...8, got \(supersampling)") }
        if let massScale, !(massScale > 0) { throw ValidationError("--mass-scale must be positive, got \(massScale)") }
        if let prefix, prefix.isEmpty || prefix.contains("/") { throw ValidationError("invalid --prefix '\(prefix)'") }
    }

    public func run() throws {
        threadOptions.apply()
        let size = scene.size
        var priors = scene.priors.observed(psfSigma: psfSigma, snr: snr, gain: gain, skyLevel: sky)
        if let massScale { priors.subhalos.massScale = massScale }
        let dataSplit = DataSplit(rawValue: split)!
        let simulator = LensSimulator(priors: priors, preset: scene.preset, supersampling: supersampling)
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        let name = prefix ?? scene.domain.lowercased()
        let bar = ProgressBar("simulate \(priors.name)/\(split)", total: count, enabled: !quiet)
        let written: SimulatedDataSetWriter.Summary
        do {
            written = try SimulatedDataSetWriter.write(simulator: simulator, count: count, seed: seed, split: dataSplit,
                                                       directory: directory, prefix: name) { bar.advance(by: $0) }
        } catch let error as CocoaError {
            throw CommandInputError("cannot write to \(out): \(error.localizedDescription)")
        }
        bar.finish()
        let seconds = written.seconds, dataURL = written.dataURL, labelURL = written.labelsURL, first = written.firstImages
        let scale = massScale.map { ", CDM mass scale \($0)" } ?? ""
        var message = "wrote \(count) images \(size)x\(size) (domain \(priors.name)\(scale), \(split)) to \(dataURL.path) and \(labelURL.lastPathComponent) in "
            + String(format: "%.2f s (%.1f images/s)", seconds, Double(count) / seconds)
        if preview {
            let previewURL = directory.appendingPathComponent("\(name)_\(split)_preview.png")
            try SimulateCommand.writePreview(first, size: size, to: previewURL)
            message += "; preview \(previewURL.lastPathComponent)"
        }
        print(message)
    }

    /// A grid with one row per class (up to 6 images each) from the first images (classes cycle 0,1,2).
    static func writePreview(_ images: [Float], size: Int, to url: URL) throws {
        let pixels = size * size
        let n = images.count / pixels
        var tiles: [[Float]] = []
        var labels: [String] = []
        let columns = max(1, min(6, n / 3))
        for cls in SubstructureClass.allCases {
            labels.append(cls.name)
            for k in 0..<columns {
                let index = cls.rawValue + 3 * k
                tiles.append(index < n ? Array(images[(index * pixels)..<((index + 1) * pixels)])
                                       : [Float](repeating: 0, count: pixels))
            }
        }
        try ImageGrid.render(tiles: tiles, height: size, width: size, columns: columns, rowLabels: labels).writePNG(to: url)
    }
}
