import ArgumentParser
import Foundation

/// The `deeplense` command: simulate lensing data, train and evaluate domain adaptation, compare backbones.
public struct DeepLense: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deeplense",
        abstract: "Rotation-equivariant CNNs and unsupervised domain adaptation for strong-lensing images.",
        subcommands: [SimulateCommand.self, LensEvalCommand.self, InspectCommand.self, TrainCommand.self, EvaluateCommand.self, EquivarianceCommand.self, BackbonesCommand.self, FeaturesCommand.self, ExportCommand.self, CompareCommand.self, StrengthCommand.self, DiffCommand.self])

    public init() {}

    /// Runs the command line and exits: help and version text go to standard output with exit 0; every error is one
    /// line on standard error, exit 2 for a command line the parser or a command's validation refuses (with a pointer
    /// to `--help` instead of the whole usage block), exit 1 for an error while running.
    public static func runAsMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            let (text, code) = report(error)
            if code == 0 {
                print(text)
            } else if !text.isEmpty {
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
            Foundation.exit(code)
        }
    }

    /// What `runAsMain` prints for `error`, and its exit code.
    public static func report(_ error: Error) -> (text: String, code: Int32) {
        let code = exitCode(for: error)
        if code == .success { return (fullMessage(for: error), 0) }
        let message = message(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        if code == .validationFailure { return ("Error: \(message) (--help shows the options)", 2) }
        return (message.isEmpty ? "" : "Error: \(message)", code.rawValue)
    }
}
