import ArgumentParser
import Core
import Foundation

/// `deeplense export`: the selected model's encoder (and classifier) from a run, as plain safetensors state dicts
/// with the backbone's own keys (torchvision's for `resnet18`), loadable by `deeplense features` and by PyTorch.
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a run's selected encoder (and classifier) weights as safetensors with the backbone's own keys.")

    @Option(name: .customLong("run"), help: "Run directory written by `deeplense train` or `deeplense compare`.")
    var runDirectory: String
    @Option(help: "Output file for the encoder weights (.safetensors).")
    var out: String
    @Option(help: "Optional output file for the classifier head weights.")
    var classifier: String?

    public init() {}

    /// Splits a checkpoint's predicting model into encoder and classifier state dicts (`<model>.encoder.*`, `<model>.classifier.*`).
    public static func split(_ state: StateDict, file: String) throws -> (encoder: StateDict, classifier: StateDict) {
        let prefixes = Set(state.keys.compactMap { key -> String? in
            guard let range = key.range(of: ".encoder.") else { return nil }
            return String(key[..<range.lowerBound])
        })
        guard prefixes.count == 1, let model = prefixes.first else {
            throw CommandInputError("\(file): expected one '<model>.encoder.*' group of tensors, found \(prefixes.sorted())")
        }
        var encoder = StateDict(), head = StateDict()
        for (key, tensor) in state.entries {
            if key.hasPrefix(model + ".encoder.") { encoder[String(key.dropFirst(model.count + 9))] = tensor }
            if key.hasPrefix(model + ".classifier.") { head[String(key.dropFirst(model.count + 12))] = tensor }
        }
        encoder.integerKeys = Set(state.integerKeys.filter { $0.hasPrefix(model + ".encoder.") }.map { String($0.dropFirst(model.count + 9)) })
        return (encoder, head)
    }

    public func run() throws {
        let best = URL(fileURLWithPath: runDirectory).appendingPathComponent("best.safetensors")
        guard FileManager.default.fileExists(atPath: best.path) else {
            throw CommandInputError("\(best.path) not found: is \(runDirectory) a finished run directory?")
        }
        try requireReadableFile(best.path, option: "--run")
        try requireDistinct(output: out, outputOption: "--out", input: best.path, inputDescription: "the run's selected model")
        if let classifier {
            try requireDistinct(output: classifier, outputOption: "--classifier", input: best.path,
                                inputDescription: "the run's selected model")
            try requireDistinct(output: classifier, outputOption: "--classifier", input: out, inputDescription: "the --out file")
        }
        try requireWritableFile(out, option: "--out")
        if let classifier { try requireWritableFile(classifier, option: "--classifier") }
        let (encoder, head) = try Self.split(try Safetensors.read(from: best), file: best.path)
        try Safetensors.write(encoder, to: URL(fileURLWithPath: out))
        var message = "wrote \(encoder.entries.count) encoder tensors to \(out)"
        if let classifier {
            try Safetensors.write(head, to: URL(fileURLWithPath: classifier))
            message += " and \(head.entries.count) classifier tensors to \(classifier)"
        }
        print(message)
    }
}
