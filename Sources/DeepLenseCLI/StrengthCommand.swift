import ArgumentParser
import Core
import Foundation
import Lensing

/// `deeplense strength`: how visible each domain's substructure is (Delta chi^2 against the smooth scene,
/// see `SubstructureStrength`), per class, for calibrating the priors.
public struct StrengthCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "strength",
        abstract: "Measure substructure visibility (Delta chi^2 vs. the smooth scene) per class of a domain.")

    @OptionGroup var scene: SimulatedDomainOptions
    @Option(help: "Images per substructure class.")
    var count: Int = 100
    @Option(parsing: .unconditional, help: "Random seed (non-negative) of the simulated stream (the train split of `simulate --seed`).",
            transform: parseSeed)
    var seed: UInt64 = 3
    @Option(help: "Override the CDM subhalo mass scale (default: the domain's, \(DomainPriors.substructure.massScale)).")
    var massScale: Double?
    @Option(help: "Delta chi^2 threshold for the 'visible' fraction.")
    var threshold: Double = 25

    public init() {}

    public func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        if let massScale, !(massScale > 0 && massScale.isFinite) {
            throw ValidationError("--mass-scale must be a positive number, got \(massScale)")
        }
        guard threshold.isFinite, threshold >= 0 else {
            throw ValidationError("--threshold must be a finite, non-negative Delta chi^2, got \(threshold)")
        }
    }

    public func run() throws {
        var priors = scene.priors
        if let massScale { priors.subhalos.massScale = massScale }
        let simulator = LensSimulator(priors: priors, preset: scene.preset)
        let size = scene.size
        print("Delta chi^2 of the substructure, domain \(priors.name), \(size)x\(size), mass scale "
              + "\(priors.subhalos.massScale), \(count) images per class, seed \(seed)")
        print("| class | median | q25 | q75 | fraction > \(Self.format(threshold)) |")
        print("|---|---|---|---|---|")
        for label in SubstructureClass.allCases where label != .none {
            let values = SubstructureStrength.measure(simulator: simulator, label: label, count: count, seed: seed)
            let s = SubstructureStrength.summarize(values, threshold: threshold)
            print("| \(label.name) | \(Self.format(s.median)) | \(Self.format(s.lowerQuartile)) | "
                  + "\(Self.format(s.upperQuartile)) | \(String(format: "%.2f", s.fractionAbove)) |")
        }
    }

    static func format(_ x: Double) -> String {
        x >= 100 ? String(format: "%.0f", x) : String(format: "%.1f", x)
    }
}
