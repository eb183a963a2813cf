import ArgumentParser
import Backbones
import Core
import DomainAdaptation
import Foundation
import Lensing
#if MPI
import MPIBackend
#endif

extension MethodKind: ExpressibleByArgument {}

/// `deeplense train`: trains one unsupervised domain adaptation method from a labelled source data set to an
/// unlabelled target data set, selecting the model on held-out source data, and evaluates the selected model once on
/// the target test split when the target directory has one.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a domain adaptation method (\(MethodKind.allCases.map(\.rawValue).joined(separator: ", "))) on any backbone.",
        discussion: """
            Adapting methods start from a source-only model (--init source, the default): the one given by --source-model \
            (a source-only run's best.safetensors, trained with the same seed so that it held out the same source images), \
            or one trained first in <out>/source-pretraining. ADDA and AdaBN always start from a source model.
            """)

    @Option(help: "Method: \(MethodKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: MethodKind
    @Option(help: "Backbone: \(BackboneFactory.names.joined(separator: ", ")).")
    var backbone: String = "resnet18"
    @Option(help: "Directory of the labelled source data (<prefix>_train_data.npy, <prefix>_train_labels.npy).")
    var source: String
    @Option(help: "Directory of the target data (train split used without labels; test split evaluated at the end).")
    var target: String
    @Option(help: "Source file prefix (optional when the directory holds one data set).")
    var sourcePrefix: String?
    @Option(help: "Target file prefix (optional when the directory holds one data set).")
    var targetPrefix: String?
    @Option(help: "Number of epochs.")
    var epochs: Int
    @Option(help: "Source images per batch (AdaMatch uses 3x as many target images).")
    var batch: Int = 100
    @Option(parsing: .unconditional, help: "Seed (non-negative) of everything random in the run.", transform: parseSeed)
    var seed: UInt64 = 0
    @Option(help: "Run directory (checkpoints, best model, metrics, plots).")
    var out: String
    @Flag(help: "Continue an interrupted run from RUN_DIR/checkpoint.safetensors (its options must match).")
    var resume = false
    @Flag(help: "Start over in a run directory that already holds a run, replacing its files.")
    var force = false
    @Option(help: "Early stopping patience in epochs (held-out source accuracy).")
    var patience: Int = 15
    @Option(help: "Share of the labelled source training data held out for model selection.")
    var validationFraction: Double = 0.1
    @Option(help: "Cap on iterations per epoch (for quick runs).")
    var maxIterations: Int?
    @Option(help: "Compute threads (default: all cores). Bit-identical resumes need the same count.")
    var threads: Int?
    @OptionGroup var adaptation: AdaptationProtocolOptions
    @Option(help: "A source-only run's best.safetensors to start from (default: train one in <out>/source-pretraining).")
    var sourceModel: String?
    @Option(help: "Adam learning rate of Self-Ensemble, CGDM and AdaMatch started from the source model, cosine-annealed to 0 (default \(OptimizerSettings().fineTuningLearningRate)).")
    var fineTuningLearningRate: Float?
    @Option(help: "Append every N-th iteration's loss terms to <out>/steps.jsonl.")
    var logSteps: Int?
    @Flag(help: "No progress bar or epoch lines.")
    var quiet = false
    @Flag(help: ArgumentHelp("Data-parallel training over the MPI processes this command runs in (mpirun -np K or srun --mpi=pmix).",
                             discussion: "Each process takes its share of every batch (--batch is the global batch, a multiple of the "
                                + "process count); gradients are averaged and batch normalisation uses the statistics of the whole "
                                + "batch, so the run follows a one-process run with the same batch. Rank 0 writes the run directory, "
                                + "which must be on a file system every process sees. Methods: source-only, adda, adabn. Needs a "
                                + "deeplense built with the MPI trait."))
    var distributed = false

    public init() {}

    public func validate() throws {
        guard epochs > 0, batch > 0, patience > 0 else { throw ValidationError("--epochs, --batch and --patience must be positive") }
        guard validationFraction > 0 && validationFraction < 1 else {
            throw ValidationError("--validation-fraction must lie in (0, 1): model selection needs held-out source images")
        }
        try requireKnownBackbone(backbone)
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if resume && force { throw ValidationError("--resume continues a run and --force replaces it: give one of them") }
        if let fineTuningLearningRate, !(fineTuningLearningRate > 0 && fineTuningLearningRate < 1) {
            throw ValidationError("--fine-tuning-learning-rate must lie in (0, 1), got \(fineTuningLearningRate)")
        }
        if let logSteps, logSteps < 1 { throw ValidationError("--log-steps must be at least 1, got \(logSteps)") }
        if let maxIterations, maxIterations < 1 { throw ValidationError("--max-iterations must be at least 1, got \(maxIterations)") }
        if distributed {
            #if !MPI
            throw ValidationError("--distributed needs a deeplense built with MPI: install libopenmpi-dev and build with "
                + "`swift build -c release --traits MPI --product deeplense` (README, \"One large run over MPI\")")
            #endif
            guard method.trainsDataParallel else {
                throw ValidationError("--distributed trains \(MethodKind.dataParallelNames); \(method.rawValue)'s losses use statistics "
                    + "of the whole batch beyond batch normalisation and do not split over processes")
            }
        }
    }

    public func run() throws {
        guard distributed else { return try train(group: .singleProcess()) }
        #if MPI
        let mpi = try MPICommunicator()
        if threads == nil { ComputeThreads.count = ComputeThreads.perProcess(localProcesses: mpi.localSize) }
        do {
            try train(group: DataParallelGroup(mpi))
        } catch {
            guard mpi.size > 1 else { mpi.finalize(); throw error }
            // one rank failing would leave the others waiting in a collective: report and stop them all
            let (text, code) = DeepLense.report(error)
            FileHandle.standardError.write(Data("rank \(mpi.rank): \(text)\n".utf8))
            mpi.abort(code: code == 0 ? 1 : code)
        }
        mpi.finalize()
        #endif
    }

    private func train(group: DataParallelGroup) throws {
        if let threads { ComputeThreads.count = threads }
        let sourceData = try openDataset(source, prefix: sourcePrefix, split: .train, option: "--source")
        let targetDirectory = try existingDirectory(target, option: "--target")
        let targetData = try openDataset(target, prefix: targetPrefix, split: .train, option: "--target")
        let targetTest = DeepLenseDataset.prefixes(in: targetDirectory, split: .test).contains(targetData.prefix)
            ? try DeepLenseDataset(directory: targetDirectory, prefix: targetData.prefix, split: .test) : nil
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw CommandInputError("--out \(out) is a file; give a run directory")
        }
        var config = ExperimentConfiguration(method: method, backbone: backbone.lowercased(), epochs: epochs, batchSize: batch, seed: seed)
        config.patience = patience
        config.validationFraction = validationFraction
        config.maximumIterationsPerEpoch = maxIterations
        config.showProgress = !quiet
        config.initialization = adaptation.initialization
        if let fineTuningLearningRate { config.hyperparameters.optimizer.fineTuningLearningRate = fineTuningLearningRate }
        config.selection = adaptation.selection
        config.diagnoseTarget = adaptation.diagnoseTarget ? true : nil
        config.stepLogInterval = logSteps
        if let sourceModel {
            guard FileManager.default.isReadableFile(atPath: sourceModel) else {
                throw CommandInputError("--source-model \(sourceModel): no such readable file")
            }
            config.sourceModel = URL(fileURLWithPath: sourceModel).standardizedFileURL.path
        }
        let result = try Experiment.run(config, source: sourceData, target: targetData, targetTest: targetTest,
                                        runDirectory: URL(fileURLWithPath: out, isDirectory: true), resume: resume, force: force,
                                        group: group)
        guard group.isLeader else { return }
        let t = result.training
        let devChoice = t.devSelectedEpoch.map { ", DEV picks epoch \($0)" } ?? ""
        print(String(format: "%@ on %@: selected epoch %d of %d by %@ (held-out source picks epoch %d, accuracy %.2f%%%@)%@",
                     method.rawValue, backbone, t.bestEpoch, t.completedEpochs, adaptation.selection.rawValue, t.sourceSelectedEpoch ?? t.bestEpoch,
                     t.bestValidationAccuracy, devChoice, t.stoppedEarly ? " (early stop)" : ""))
        if let m = result.targetMetrics {
            print(String(format: "target test (%@): accuracy %.2f%%  AUROC macro %.4f  micro %.4f  -> %@/metrics.json",
                         targetData.prefix, m.accuracy, m.aurocMacro, m.aurocMicro, out))
        } else {
            print("no target test split found in \(target); run `deeplense evaluate --run \(out) --data DIR` to evaluate")
        }
    }
}

/// A bad command-line input, reported by ArgumentParser as one line `Error: <message>`.
struct CommandInputError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The URL of `path` after checking that it names an existing directory.
func existingDirectory(_ path: String, option: String) throws -> URL {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CommandInputError("\(option) \(path): no such directory")
    }
    guard isDirectory.boolValue else { throw CommandInputError("\(option) \(path) is a file; give the directory that holds it") }
    return URL(fileURLWithPath: path, isDirectory: true)
}

/// Opens the `split` data set in directory `path`; an unknown `prefix` is reported with the prefixes that exist.
func openDataset(_ path: String, prefix: String?, split: DataSplit, option: String) throws -> DeepLenseDataset {
    let directory = try existingDirectory(path, option: option)
    let available = DeepLenseDataset.prefixes(in: directory, split: split)
    if let prefix, !available.contains(prefix) {
        let found = available.isEmpty ? "none" : available.joined(separator: ", ")
        throw CommandInputError("\(option) \(path): no \(split.rawValue) data set with prefix '\(prefix)' "
            + "(\(prefix)_\(split.rawValue)_data.npy and _labels.npy); prefixes found: \(found)")
    }
    return try DeepLenseDataset(directory: directory, prefix: prefix, split: split)
}
