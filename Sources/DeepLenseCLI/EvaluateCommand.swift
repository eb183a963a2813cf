import ArgumentParser
import Core
import DomainAdaptation
import Foundation
import Lensing

/// `deeplense evaluate`: evaluates a run's selected model on the test split of a data directory and writes
/// `metrics.json` (accuracy in percent, `auroc_macro`, `auroc_micro`, confusion matrix, ROC curves) and the SVG plots
/// into the run directory.
public struct EvaluateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a training run's selected model on a test split; writes metrics.json and plots.")

    @Option(name: .customLong("run"), help: "Run directory written by `deeplense train`.")
    var runPath: String
    @Option(help: "Directory holding <prefix>_test_data.npy and <prefix>_test_labels.npy.")
    var data: String
    @Option(help: "File prefix (optional when the directory holds one test set).")
    var prefix: String?
    @OptionGroup var threadOptions: ThreadOptions

    public init() {}

    public func run() throws {
        threadOptions.apply()
        let runDirectory = try existingDirectory(runPath, option: "--run")
        for file in ["run.json", "best.safetensors"]
        where !FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent(file).path) {
            throw CommandInputError("--run \(runPath) has no \(file); give the --out directory of a finished `deeplense train`")
        }
        let test = try openDataset(data, prefix: prefix, split: .test, option: "--data")
        let m = try Experiment.evaluate(runDirectory: runDirectory, test: test)
        print(String(format: "%@ (%d images): accuracy %.2f%%  AUROC macro %.4f  micro %.4f", test.prefix, m.sampleCount,
                     m.accuracy, m.aurocMacro, m.aurocMicro))
        for (k, auc) in m.perClassAUROC.enumerated() {
            print(String(format: "  %@: AUROC %@", m.classNames[k], auc.map { String(format: "%.4f", $0) } ?? "n/a"))
        }
        print("wrote \(runDirectory.appendingPathComponent("metrics.json").path), confusion_matrix.svg, roc_curves.svg")
    }
}
