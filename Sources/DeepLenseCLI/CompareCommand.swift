import ArgumentParser
import Backbones
import Core
import DomainAdaptation
import Foundation

/// `deeplense compare`: the main job. Trains every backbone x method x seed on Model A -> Model B and writes the table
/// and plots a paper would show.
extension Initialization: ExpressibleByArgument {}
extension ModelSelection: ExpressibleByArgument {}

public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare backbones on Model A -> Model B domain adaptation across methods and seeds.",
        discussion: """
            Simulates the data into --data when no source/target files are there (prefixes a/b, or the DeepLense release's \
            f/j), trains each run (resumable: finished runs are skipped, interrupted ones resume from their checkpoint), \
            evaluates each selected model once on the target test set, and writes results.json, results.md, \
            accuracy_by_method.svg and roc_<method>.svg into --out.
            Per backbone and seed the source-only model is trained once; with --init source (the default) every adapting \
            method of that backbone and seed starts from it.
            Profiles: demo (64x64, 1,800 train / 300 test per domain, 6 epochs; source-only and AdaBN, one seed), \
            small (64x64, 1,800 / 1,200, source models 6 epochs, adapting methods 1 epoch of fine-tuning, 3 seeds), \
            shift (Model A -> Model A under other observing conditions, 64x64, 600 / 600, 5 epochs, 3 seeds: a check that \
            each method adapts), paper (150x150, 30,000 / 7,500, 100 epochs).
            """)

    @Option(help: "Scale of the comparison: \(ComparisonProfile.all.map(\.name).joined(separator: ", ")).")
    var profile: String = "demo"
    @Option(help: "Comma-separated backbones (see `deeplense backbones`).")
    var backbones: String = "resnet18,c8resnet"
    @Option(help: "Comma-separated methods: \(MethodKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the profile's; all but for demo).")
    var methods: String?
    @Option(parsing: .unconditional, help: "Comma-separated non-negative training seeds (default: the profile's; 1 for demo, 1,2,3 for small and shift).")
    var seeds: String?
    @OptionGroup var adaptation: AdaptationProtocolOptions
    @Flag(inversion: .prefixedNo, help: "Also train the in-domain ceiling per backbone and seed (source-only training on the labelled target data, the same budget; default: yes, no for demo).")
    var ceiling: Bool?
    @Option(help: "Data directory (default: <out>/data).")
    var data: String?
    @Option(help: "Output directory for runs, results and plots.")
    var out: String
    @Option(help: "Override the profile's number of epochs, for every run (with --adaptation-epochs: for source-only and ceiling runs).")
    var epochs: Int?
    @Option(help: "Override the epochs of adapting methods that fine-tune the source model (default: the profile's; small: 1).")
    var adaptationEpochs: Int?
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(help: "No progress bars (one line per run only).")
    var quiet = false
    @OptionGroup(title: "Grid steps for batch systems")
    var grid: CompareGridOptions

    public init() {}

    func parsedMethods() throws -> [MethodKind] {
        let names = methods ?? (ComparisonProfile.named(profile)?.defaultMethods ?? MethodKind.allCases).map(\.rawValue).joined(separator: ",")
        return try list(names).map { name in
            guard let kind = MethodKind(rawValue: name) else {
                throw ValidationError("unknown method '\(name)'; available: \(MethodKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }

    func parsedSeeds() throws -> [UInt64] {
        guard let seeds else { return ComparisonProfile.named(profile)?.defaultSeeds ?? [1] }
        return try list(seeds).map { text in
            guard let seed = UInt64(text) else { throw ValidationError("invalid seed '\(text)': seeds are non-negative integers") }
            return seed
        }
    }

    func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func validate() throws {
        guard ComparisonProfile.named(profile) != nil else {
            throw ValidationError("unknown profile '\(profile)'; available: \(ComparisonProfile.all.map(\.name).joined(separator: ", "))")
        }
        let names = list(backbones)
        guard !names.isEmpty else { throw ValidationError("--backbones is empty") }
        for name in names where !BackboneFactory.names.contains(name) {
            throw ValidationError("unknown backbone '\(name)'; available: \(BackboneFactory.names.joined(separator: ", "))")
        }
        guard !(try parsedMethods()).isEmpty else { throw ValidationError("--methods is empty") }
        guard !(try parsedSeeds()).isEmpty else { throw ValidationError("--seeds is empty") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let adaptationEpochs, adaptationEpochs < 1 {
            throw ValidationError("--adaptation-epochs must be at least 1, got \(adaptationEpochs)")
        }
    }

    public func run() throws {
        threadOptions.apply()
        var chosen = ComparisonProfile.named(profile)!
        if let epochs {  // an explicit epoch count applies to every run unless --adaptation-epochs splits it
            chosen.epochs = epochs
            chosen.adaptationEpochs = nil
        }
        if let adaptationEpochs { chosen.adaptationEpochs = adaptationEpochs }
        let output = URL(fileURLWithPath: out, isDirectory: true)
        let dataDirectory = data.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? output.appendingPathComponent("data", isDirectory: true)
        var plan = ComparisonPlan(profile: chosen, backbones: list(backbones), methods: try parsedMethods(), seeds: try parsedSeeds(),
                                  dataDirectory: dataDirectory, outputDirectory: output)
        plan.showProgress = !quiet
        plan.initialization = adaptation.initialization
        plan.selection = adaptation.selection
        plan.diagnoseTarget = adaptation.diagnoseTarget
        plan.inDomainCeiling = ceiling ?? chosen.trainsCeiling ?? true
        let log: (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if try grid.run(plan, arguments: gridArguments(plan), log: log) { return }
        let start = Date()
        let results = try Comparison.run(plan, log: log)
        print(results.markdown)
        print("Finished in \(ProgressBar.clock(Date().timeIntervalSince(start))). Results: \(output.appendingPathComponent("results.md").path), "
              + "\(output.appendingPathComponent("results.json").path); plots: \(output.appendingPathComponent("accuracy_by_method.svg").path) "
              + "and roc_<method>.svg; runs under \(output.appendingPathComponent("runs").path).")
        if chosen.name == "demo" { print("Note: \(chosen.note).") }
    }
}
