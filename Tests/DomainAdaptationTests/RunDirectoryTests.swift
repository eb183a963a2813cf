import Backbones
import Core
@testable import DomainAdaptation
import Foundation
import Testing

/// One writer per run directory, no silent replacement, resumes checked before anything is written.
@Suite struct RunDirectoryTests {
    let source = textureImages(count: 12, size: 12, seed: 1)
    let target = textureImages(count: 12, size: 12, seed: 2, contrast: 0.5, offset: 1)

    func configuration(_ kind: MethodKind = .sourceOnly, batch: Int = 4, epochs: Int = 1) -> ExperimentConfiguration {
        var config = ExperimentConfiguration(method: kind, backbone: "tiny", epochs: epochs, batchSize: batch, seed: 1)
        config.maximumIterationsPerEpoch = 1
        config.showProgress = false
        return config
    }

    @discardableResult
    func run(_ config: ExperimentConfiguration, in directory: URL, resume: Bool = false, force: Bool = false,
             source: LabeledImages? = nil) throws -> RunResult {
        try Experiment.run(config, source: source ?? self.source, target: target, targetTest: target, runDirectory: directory,
                           resume: resume, force: force, makeBackbone: tinyBuilder)
    }

    func exists(_ directory: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path)
    }

    /// While one holder has the lock, a second (another open file description, as another process would have) is
    /// refused, and a run into the directory fails before writing anything; after release the lock is free again.
    @Test func secondWriterIsRefused() throws {
        let directory = temporaryDirectory()
        let lock = try RunLock(acquiring: directory)
        #expect(throws: RunDirectoryError.busy(path: directory.path, holder: getpid())) { _ = try RunLock(acquiring: directory) }
        #expect { try run(configuration(), in: directory) } throws: { error in
            guard case .busy? = error as? RunDirectoryError else { return false }
            return "\(error)".contains("in use by another deeplense process")
        }
        #expect(!exists(directory, "run.json"))
        lock.release()
        _ = try RunLock(acquiring: directory)
        try run(configuration(), in: directory)
        #expect(exists(directory, "best.safetensors"))
    }

    /// A directory that cannot be created is one sentence, not an NSError dump.
    @Test func uncreatableDirectoryIsReported() {
        #expect { _ = try RunLock(acquiring: URL(fileURLWithPath: "/proc/no-such-run")) } throws: { error in
            "\(error)".hasPrefix("cannot use run directory /proc/no-such-run: cannot create files in /proc")
        }
    }

    /// A fresh start into a finished run is refused (naming the files), `force` replaces the old run's outputs.
    @Test func freshStartIntoARunNeedsForce() throws {
        let directory = temporaryDirectory()
        try run(configuration(), in: directory)
        let metrics = try Data(contentsOf: directory.appendingPathComponent("metrics.json"))
        #expect { try run(configuration(batch: 3), in: directory) } throws: { error in
            guard case let .existingRun(_, files)? = error as? RunDirectoryError else { return false }
            return files.contains("run.json") && files.contains("checkpoint.safetensors") && "\(error)".contains("--force")
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("metrics.json")) == metrics)
        try Data("{}".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        try run(configuration(batch: 3), in: directory, force: true)
        let saved = try JSONDecoder().decode(ExperimentConfiguration.self, from: Data(contentsOf: directory.appendingPathComponent("run.json")))
        #expect(saved.batchSize == 3)
        #expect(exists(directory, "notes.txt"))
    }

    /// With run.json gone, a resume with another batch size (or method) is refused by the options stored in the
    /// checkpoint, and the refusal writes nothing: the correct resume still works afterwards.
    @Test func resumeWithOtherOptionsIsRefusedBeforeWriting() throws {
        let directory = temporaryDirectory()
        try run(configuration(epochs: 2), in: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("run.json"))
        #expect { try run(configuration(batch: 3, epochs: 2), in: directory, resume: true) } throws: { error in
            guard case let .mismatch(path, reason)? = error as? CheckpointError else { return false }
            return path.hasSuffix("checkpoint.safetensors") && reason.contains("batchSize 4 in the checkpoint, 3 now")
        }
        #expect { try run(configuration(.selfEnsemble, epochs: 2), in: directory, resume: true) } throws: { error in
            "\(error)".contains("does not fit this run")
        }
        #expect(!exists(directory, "run.json"))
        let result = try run(configuration(epochs: 2), in: directory, resume: true)
        #expect(result.training.completedEpochs == 2)
    }

    /// run.json that disagrees is refused too, with the differing option named.
    @Test func resumeAgainstRunJSONNamesTheOption() throws {
        let directory = temporaryDirectory()
        try run(configuration(), in: directory)
        var other = configuration()
        other.patience = 3
        #expect { try run(other, in: directory, resume: true) } throws: { error in
            "\(error)".contains("run.json") && "\(error)".contains("patience 15 there, 3 now")
        }
    }

    /// A run resumes with its hyperparameters; a changed one is refused with its dotted name, by run.json and, with
    /// run.json gone, by the checkpoint.
    @Test func resumeNamesAChangedHyperparameter() throws {
        let directory = temporaryDirectory()
        try run(configuration(epochs: 2), in: directory)
        #expect(try run(configuration(epochs: 2), in: directory, resume: true).training.completedEpochs == 2)
        var other = configuration(epochs: 2)
        other.hyperparameters.optimizer.weightDecay = 1e-3
        #expect { try run(other, in: directory, resume: true) } throws: { error in
            "\(error)".contains("run.json") && "\(error)".contains("hyperparameters.optimizer.weightDecay ")
                && "\(error)".contains("there, 0.001 now")
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("run.json"))
        #expect { try run(other, in: directory, resume: true) } throws: { error in
            guard case let .mismatch(_, reason)? = error as? CheckpointError else { return false }
            return reason.contains("hyperparameters.optimizer.weightDecay ") && reason.contains("in the checkpoint, 0.001 now")
        }
    }

    /// A checkpoint whose options hold the hyperparameters as one flat entry (earlier versions) is refused with that
    /// reason, even though its run.json agrees.
    @Test func resumeOfAFlatLayoutCheckpointIsRefused() throws {
        let directory = temporaryDirectory()
        try run(configuration(epochs: 2), in: directory)
        let checkpoint = directory.appendingPathComponent("checkpoint.safetensors")
        let saved = try #require(try Checkpoint.inspect(checkpoint).options)
        var flat = saved.filter { !$0.key.hasPrefix("hyperparameters.") }
        flat["hyperparameters"] = #"{"learningRate":0.001}"#
        let method = SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        let state = try Checkpoint.load(into: method, from: checkpoint)
        try Checkpoint.save(method: method, trainerState: state, options: flat, to: checkpoint)
        #expect { try run(configuration(epochs: 2), in: directory, resume: true) } throws: { error in
            "\(error)".contains("flat layout of an earlier deeplense") && "\(error)".contains("--force")
        }
    }

    /// A missing selected model is found at the start of a resume, not after the remaining epochs.
    @Test func resumeWithoutTheSelectedModelIsRefused() throws {
        let directory = temporaryDirectory()
        try run(configuration(epochs: 2), in: directory)
        let runJSON = try Data(contentsOf: directory.appendingPathComponent("run.json"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("best.safetensors"))
        #expect { try run(configuration(epochs: 2), in: directory, resume: true) } throws: { error in
            "\(error)".contains("best.safetensors of epoch") && "\(error)".contains("is missing")
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("run.json")) == runJSON)
    }

    /// Temporary files of an interrupted checkpoint write (kill -9 between write and rename) are removed when the
    /// next run starts; other dot files stay.
    @Test func orphanTemporariesAreRemoved() throws {
        let directory = temporaryDirectory()
        try run(configuration(.adda), in: directory)
        let orphans = [".checkpoint.safetensors.tmp-99999", "source-pretraining/.best.safetensors.tmp-4242"]
        for name in orphans + [".keep.tmp-x"] { try Data([1, 2, 3]).write(to: directory.appendingPathComponent(name)) }
        #expect(RunDirectory.isAtomicTemporary(".checkpoint.safetensors.tmp-123"))
        #expect(!RunDirectory.isAtomicTemporary(".tmp-123") && !RunDirectory.isAtomicTemporary("checkpoint.tmp-1"))
        try run(configuration(.adda), in: directory, resume: true)
        for name in orphans { #expect(!exists(directory, name), "\(name)") }
        #expect(exists(directory, ".keep.tmp-x"))
    }

    /// `evaluate` refuses images of another size than the run was trained on, before touching metrics.json.
    @Test func evaluationRefusesAnotherImageSize() throws {
        let directory = temporaryDirectory()
        try run(configuration(), in: directory)
        let metrics = try Data(contentsOf: directory.appendingPathComponent("metrics.json"))
        #expect {
            _ = try Experiment.evaluate(runDirectory: directory, test: textureImages(count: 6, size: 10, seed: 5), makeBackbone: tinyBuilder)
        } throws: { error in
            "\(error)".contains("was trained on 12x12 images, the test set holds 10x10 images")
        }
        #expect(try Data(contentsOf: directory.appendingPathComponent("metrics.json")) == metrics)
        _ = try Experiment.evaluate(runDirectory: directory, test: textureImages(count: 6, size: 12, seed: 5), makeBackbone: tinyBuilder)
    }

    /// A trainer handed no images reports it instead of stopping the process.
    @Test func emptyTrainingSetsAreErrors() throws {
        let trainer = Trainer(method: SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4),
                              configuration: TrainerConfiguration(epochs: 1, batchSize: 2, seed: 1, showProgress: false),
                              runDirectory: temporaryDirectory())
        let empty = ImageSubset(source, indices: [])
        #expect(throws: ValidationFailure.self) { _ = try trainer.fit(sourceTraining: empty, sourceValidation: empty, targetTraining: target) }
        #expect(throws: ValidationFailure.self) { _ = try trainer.fit(sourceTraining: source, sourceValidation: empty, targetTraining: empty) }
    }
}

/// Checkpoints carry their options and trainer state under the checksum; non-finite values stop training.
@Suite struct CheckpointIntegrityTests {
    let source = textureImages(count: 12, size: 12, seed: 1)
    let target = textureImages(count: 12, size: 12, seed: 2, contrast: 0.5, offset: 1)

    func makeTrainer(_ directory: URL, epochs: Int = 2) -> Trainer {
        Trainer(method: SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4),
                configuration: TrainerConfiguration(epochs: epochs, batchSize: 4, seed: 1, maximumIterationsPerEpoch: 1,
                                                    showProgress: false),
                runDirectory: directory)
    }

    /// Editing the trainer state (an empty generator state, an impossible epoch count) or the options in the
    /// metadata, even as valid JSON, fails the checksum.
    @Test func editedMetadataIsDetected() throws {
        let directory = temporaryDirectory()
        let trainer = makeTrainer(directory)
        _ = try trainer.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        let contents = try Safetensors.readContents(from: trainer.checkpointURL)
        #expect(contents.metadata["run_options"]?.contains("\"trainer.batchSize\":\"4\"") == true)
        let edits: [(String, (String) -> String)] = [
            ("trainer_state", { $0.replacingOccurrences(of: #""generatorState":\[[0-9,]*\]"#, with: #""generatorState":[]"#, options: .regularExpression) }),
            ("trainer_state", { $0.replacingOccurrences(of: #""completedEpochs":2"#, with: #""completedEpochs":-3"#) }),
            ("run_options", { $0.replacingOccurrences(of: #""trainer.batchSize":"4""#, with: #""trainer.batchSize":"8""#) }),
        ]
        let edited = directory.appendingPathComponent("edited.safetensors")
        for (key, edit) in edits {
            var metadata = contents.metadata
            metadata[key] = edit(metadata[key]!)
            #expect(metadata[key] != contents.metadata[key], "edit of \(key) applies")
            try Safetensors.write(contents.state, to: edited, metadata: metadata)
            #expect { _ = try Checkpoint.inspect(edited) } throws: { "\($0)".contains("checksum mismatch") }
        }
    }

    /// NaN in the encoder weights of a checkpoint (with a valid checksum) stops the resume with the tensor named.
    @Test func nonFiniteWeightsInAResumedCheckpointAreRefused() throws {
        let directory = temporaryDirectory()
        let first = makeTrainer(directory)
        _ = try first.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        let method = SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        let state = try Checkpoint.load(into: method, from: first.checkpointURL)
        (method.model.encoder as! TinyBackbone).conv.weight.assign([Float](repeating: .nan, count: 54))
        try Checkpoint.save(method: method, trainerState: state, options: first.runOptions, to: first.checkpointURL)
        #expect {
            _ = try first.fit(sourceTraining: source, sourceValidation: source, targetTraining: target, resume: true)
        } throws: { error in
            "\(error)".contains("module model encoder.conv.weight holds NaN or infinite values")
        }
    }

    /// A method whose batch-norm statistics become infinite while its loss stays finite (the ReLU after the batch
    /// norm maps NaN to 0) is stopped after that iteration, naming the tensor.
    @Test func nonFiniteBuffersStopTraining() throws {
        let overflowing = HookedSourceOnly()
        overflowing.after = { encoder, _ in encoder.bn.runningVar.assign([Float](repeating: .infinity, count: 6)) }
        let trainer = Trainer(method: overflowing, configuration: TrainerConfiguration(epochs: 1, batchSize: 4, seed: 1,
                                                                                         showProgress: false),
                              runDirectory: temporaryDirectory())
        #expect {
            _ = try trainer.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        } throws: { error in
            guard case let .nonFiniteParameter(epoch, iteration, tensor, _)? = error as? TrainingError else { return false }
            return epoch == 1 && iteration == 1 && tensor == "module model encoder.bn.running_var"
        }
    }
}
