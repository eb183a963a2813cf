import ArgumentParser
import Backbones
import Core
import DomainAdaptation
import Lensing

/// `--threads` of `simulate`, `evaluate` and `compare` (`train` declares its own, whose help adds that a resume is
/// bit-identical only with the same count).
struct ThreadOptions: ParsableArguments {
    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Sets `ComputeThreads.count` when `--threads` was given.
    func apply() {
        if let threads { ComputeThreads.count = threads }
    }
}

/// `--domain` and `--size` of the commands that simulate (`simulate`, `strength`).
struct SimulatedDomainOptions: ParsableArguments {
    @Option(help: "Domain: A (source, fixed redshifts and SNR), B (target, variable, lens light) or A-shifted (Model A under other observing conditions).")
    var domain: String = "A"
    @Option(help: "Image size: 150 (0.05\"/px, DeepLense-like) or 64 (0.1\"/px, Euclid-like).")
    var size: Int = 150

    func validate() throws {
        guard DomainPriors.named(domain) != nil else { throw ValidationError("unknown domain '\(domain)': use A, B or A-shifted") }
        guard ImagePreset(size: size) != nil else { throw ValidationError("unsupported --size \(size): use 150 or 64") }
    }

    /// The domain's priors (valid after `validate()`).
    var priors: DomainPriors { DomainPriors.named(domain)! }
    /// The image preset of `--size` (valid after `validate()`).
    var preset: ImagePreset { ImagePreset(size: size)! }
}

/// `--init`, `--selection` and `--diagnose-target`: how the adaptation runs of `train` and `compare` start and pick
/// their epoch.
struct AdaptationProtocolOptions: ParsableArguments {
    @Option(name: .customLong("init"), help: "Where adapting methods start: source (a trained source-only model) or scratch (random weights, the reference protocol).")
    var initialization: Initialization = .source
    @Option(help: "Epoch selection without target labels: source (held-out source accuracy) or dev (Deep Embedded Validation).")
    var selection: ModelSelection = .sourceValidation
    @Flag(help: "Research diagnostic: log every epoch's target test accuracy in the run's history.json (never used to select).")
    var diagnoseTarget = false
}

/// Refuses a backbone name `BackboneFactory` does not know, listing the known ones.
func requireKnownBackbone(_ name: String) throws {
    guard BackboneFactory.names.contains(name.lowercased()) else {
        throw ValidationError("unknown backbone '\(name)'; available: \(BackboneFactory.names.joined(separator: ", "))")
    }
}
