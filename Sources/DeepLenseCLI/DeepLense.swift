import ArgumentParser

/// The `deeplense` command: simulate lensing data, train and evaluate domain adaptation, compare backbones.
public struct DeepLense: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deeplense",
        abstract: "Rotation-equivariant CNNs and unsupervised domain adaptation for strong-lensing images.",
        subcommands: [SimulateCommand.self, LensEvalCommand.self, InspectCommand.self, TrainCommand.self, EvaluateCommand.self, EquivarianceCommand.self, BackbonesCommand.self, FeaturesCommand.self, ExportCommand.self, CompareCommand.self, StrengthCommand.self])

    public init() {}
}
