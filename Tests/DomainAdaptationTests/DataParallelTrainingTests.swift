import Backbones
import Core
import DomainAdaptation
import Foundation
import TestSupport
import Testing

/// Data-parallel training with ranks as threads (`ThreadCommunicator`): the same trainer code `deeplense train
/// --distributed` runs over MPI.
@Suite struct DataParallelTrainingTests {
    static func makeMethod(_ kind: MethodKind) -> UDAMethod {
        switch kind {
        case .adda: return ADDA(source: SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4).model, seed: 5)
        case .adabn: return AdaBN(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        case .selfEnsemble: return SelfEnsemble(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4, startsFromSource: false)
        default: return SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        }
    }

    /// Every module tensor by `module.key`.
    static func tensors(_ method: UDAMethod) -> [String: [Float]] {
        var all: [String: [Float]] = [:]
        for (name, module) in method.modules { for (key, tensor, _) in module.namedTensors() { all["\(name).\(key)"] = tensor.scalars } }
        return all
    }

    /// Trains `kind` for `epochs` epochs of 3 iterations with a global batch of `batch` over `ranks` ranks (1: one
    /// process, no group) into `directory`; `prepare(trainer, rank)` runs before `fit`. Returns each rank's module
    /// tensors and trainer state.
    static func train(_ kind: MethodKind, ranks: Int, epochs: Int = 2, batch: Int = 8, directory: URL, resume: Bool = false,
                      method make: @escaping @Sendable () -> UDAMethod = { makeMethod(.sourceOnly) },
                      prepare: @escaping @Sendable (Trainer, Int) -> Void = { _, _ in })
        throws -> [(tensors: [String: [Float]], state: TrainerState)] {
        @Sendable func fit(_ communicator: Communicator?) throws -> ([String: [Float]], TrainerState) {
            let method = kind == .sourceOnly ? make() : makeMethod(kind)
            let configuration = TrainerConfiguration(epochs: epochs, batchSize: batch, seed: 11, maximumIterationsPerEpoch: 3,
                                                     showProgress: false)
            let trainer = Trainer(method: method, configuration: configuration, runDirectory: directory)
            if let communicator { trainer.group = DataParallelGroup(communicator) }
            prepare(trainer, communicator?.rank ?? 0)
            let summary = try trainer.fit(sourceTraining: textureImages(count: 30, seed: 1),
                                          sourceValidation: textureImages(count: 9, seed: 3),
                                          targetTraining: textureImages(count: 30, seed: 2, contrast: 0.5, offset: 1),
                                          resume: resume)
            return (tensors(method), summary.state)
        }
        if ranks == 1 { return [try fit(nil)] }
        return try ThreadCommunicator.run(ranks: ranks) { communicator in Result { try fit(communicator) } }.map { try $0.get() }
    }

    /// Largest absolute difference between two runs' tensors.
    static func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        #expect(a.keys.sorted() == b.keys.sorted())
        return a.keys.map { key in zip(a[key]!, b[key]!).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    /// Over 2 ranks, source-only, ADDA and AdaBN end bit-identical on both ranks and equal to one process with the
    /// same global batch to round-off (2 epochs of 3 steps on a network of about 600 parameters; bound 1e-5 on
    /// every parameter and buffer); the epochs' records (losses averaged over the ranks, held-out accuracy) agree.
    @Test(arguments: [MethodKind.sourceOnly, .adda, .adabn])
    func twoRanksFollowOneProcess(kind: MethodKind) throws {
        let single = try Self.train(kind, ranks: 1, directory: temporaryDirectory("single-\(kind.rawValue)"))[0]
        let ranks = try Self.train(kind, ranks: 2, directory: temporaryDirectory("ranks-\(kind.rawValue)"))
        #expect(ranks[0].tensors == ranks[1].tensors)
        #expect(Self.largestDifference(single.tensors, ranks[0].tensors) < 1e-5)
        #expect(ranks[0].state.completedEpochs == single.state.completedEpochs)
        #expect(ranks[1].state.history.count == single.state.history.count)
        for (a, b) in zip(single.state.history, ranks[1].state.history) {
            #expect(a.validationAccuracy == b.validationAccuracy)
            for (term, value) in a.losses { #expect(abs(value - (b.losses[term] ?? .nan)) < 1e-5 * max(1, abs(value))) }
        }
    }

    /// A distributed run resumed from the checkpoint rank 0 wrote after epoch 1 ends bit-identical, on both ranks,
    /// to the uninterrupted distributed run.
    @Test func resumeOverRanksIsBitIdentical() throws {
        let interrupted = temporaryDirectory("interrupted")
        let full = try Self.train(.sourceOnly, ranks: 2, directory: temporaryDirectory("full")) { trainer, rank in
            guard rank == 0 else { return }
            trainer.onEpochEnd = { record, _ in
                guard record.epoch == 1 else { return }
                for file in [trainer.checkpointURL, trainer.bestModelURL] {
                    try? FileManager.default.copyItem(at: file, to: interrupted.appendingPathComponent(file.lastPathComponent))
                }
            }
        }
        let resumed = try Self.train(.sourceOnly, ranks: 2, directory: interrupted, resume: true)
        #expect(resumed[0].state.history.count == 2)
        #expect(resumed[0].tensors == full[0].tensors)
        #expect(resumed[1].tensors == full[1].tensors)
    }

    /// `MethodKind.trainsDataParallel`, which the CLI checks before building anything, says what each kind's method
    /// answers.
    @Test(arguments: MethodKind.allCases)
    func kindsAgreeWithTheirMethods(kind: MethodKind) throws {
        var configuration = ExperimentConfiguration(method: kind, backbone: "tiny", epochs: 1, batchSize: 4, seed: 1)
        configuration.showProgress = false
        let method = try Experiment.makeMethod(configuration, classCount: 3, makeBackbone: tinyBuilder) { _ in }
        #expect(method.supportsDataParallelTraining == kind.trainsDataParallel)
        #expect(MethodKind.dataParallelNames == "source-only, adda and adabn")
    }

    /// Methods whose losses use whole-batch statistics, and batches that do not split evenly, are refused on every
    /// rank before the first step.
    @Test(arguments: [(MethodKind.selfEnsemble, 8, "self-ensemble cannot train over several processes"),
                      (.sourceOnly, 7, "the batch of 7 images does not split evenly over 2 processes")])
    func unsupportedRunsAreRefusedOnEveryRank(kind: MethodKind, batch: Int, message: String) {
        let directory = temporaryDirectory("refused-\(batch)")
        let outcomes = ThreadCommunicator.run(ranks: 2) { communicator in
            Result { try Self.train(kind, ranks: 1, batch: batch, directory: directory) { trainer, _ in
                trainer.group = DataParallelGroup(communicator)
            } }
        }
        for outcome in outcomes {
            #expect(throws: ValidationFailure.self) { try outcome.get() }
            if case .failure(let error) = outcome { #expect("\(error)".contains(message)) }
        }
    }

    /// A rank whose model drifts from rank 0's (another build or other data) stops the run on every rank at the end
    /// of the epoch, before a checkpoint is written.
    @Test func divergedRanksStopTheRun() {
        let directory = temporaryDirectory()
        let outcomes = ThreadCommunicator.run(ranks: 2) { communicator in
            Result {
                try Self.train(.sourceOnly, ranks: 1, directory: directory, method: {
                    let method = HookedSourceOnly()
                    if communicator.rank == 1 {
                        method.before = { encoder, _ in encoder.bn.runningMean.assign([Float](repeating: 9, count: 6)) }
                    }
                    return method
                }) { trainer, _ in trainer.group = DataParallelGroup(communicator) }
            }
        }
        for outcome in outcomes {
            if case .failure(let error) = outcome {
                #expect("\(error)".contains("the processes' models differ after epoch 1"))
            } else {
                Issue.record("the run went on with diverged ranks")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoint.safetensors").path))
    }
}
