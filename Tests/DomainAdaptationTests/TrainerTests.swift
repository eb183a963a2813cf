import Backbones
import Core
import DomainAdaptation
import Foundation
import Testing

@Suite struct TrainerTests {
    let source = textureImages(count: 24, size: 12, seed: 1)
    let target = textureImages(count: 24, size: 12, seed: 2, contrast: 0.5, offset: 1)

    func configuration(epochs: Int) -> TrainerConfiguration {
        TrainerConfiguration(epochs: epochs, batchSize: 6, seed: 42, maximumIterationsPerEpoch: 2, showProgress: false)
    }

    func states(_ method: UDAMethod) -> [String: [Float]] {
        var all: [String: [Float]] = [:]
        for (name, module) in method.modules { for (k, t) in module.stateDict().entries { all["m.\(name).\(k)"] = t.scalars } }
        for (name, opt) in method.optimizers { for (k, t) in opt.stateDict().entries { all["o.\(name).\(k)"] = t.scalars } }
        for (k, t) in method.extraState().entries { all["x.\(k)"] = t.scalars }
        return all
    }

    /// Resuming from the checkpoint written after epoch 1 ends with bit-identical modules, optimizer states and
    /// method state to the uninterrupted three-epoch run (same seed, same thread count). CGDM has the most state
    /// (two optimizers, pseudo-labels refreshed every iteration here); SourceOnly has the one-cycle schedule.
    @Test(arguments: [MethodKind.cgdm, MethodKind.sourceOnly])
    func resumeIsBitIdentical(kind: MethodKind) throws {
        var h = CGDM.Hyperparameters()
        h.pseudoLabelInterval = 1
        func make() -> UDAMethod {
            kind == .cgdm ? CGDM(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4, hyperparameters: h)
                : SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        }
        let full = temporaryDirectory(), interrupted = temporaryDirectory()
        let trainer = Trainer(method: make(), configuration: configuration(epochs: 3), runDirectory: full)
        trainer.onEpochEnd = { record, _ in
            if record.epoch == 1 {
                for file in [trainer.checkpointURL, trainer.bestModelURL] {
                    try? FileManager.default.copyItem(at: file, to: interrupted.appendingPathComponent(file.lastPathComponent))
                }
            }
        }
        let uninterrupted = try trainer.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        #expect(uninterrupted.state.completedEpochs == 3)

        let resumedMethod = make()
        let resumed = try Trainer(method: resumedMethod, configuration: configuration(epochs: 3), runDirectory: interrupted)
            .fit(sourceTraining: source, sourceValidation: source, targetTraining: target, resume: true)
        #expect(resumed.state.completedEpochs == 3)
        #expect(resumed.state.generatorState == uninterrupted.state.generatorState)
        #expect(resumed.state.history.map(\.losses) == uninterrupted.state.history.map(\.losses))
        let a = states(trainer.method), b = states(resumedMethod)
        #expect(a.keys.sorted() == b.keys.sorted())
        for key in a.keys { #expect(a[key] == b[key], "\(key)") }
    }

    /// With a step-log interval, `steps.jsonl` holds every N-th iteration's loss terms with its epoch and run-wide
    /// iteration; a resumed run keeps the completed epochs' lines, drops those of the unfinished epoch, and ends with
    /// the same file as the uninterrupted run.
    @Test func stepLogRecordsEveryNthIterationAndSurvivesResume() throws {
        func make() -> UDAMethod { SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4) }
        var config = configuration(epochs: 3)
        config.stepLogInterval = 2
        let full = temporaryDirectory(), interrupted = temporaryDirectory()
        let trainer = Trainer(method: make(), configuration: config, runDirectory: full)
        trainer.onEpochEnd = { record, _ in
            guard record.epoch == 1 else { return }
            for name in ["checkpoint.safetensors", "best.safetensors", "steps.jsonl"] {
                try? FileManager.default.copyItem(at: full.appendingPathComponent(name), to: interrupted.appendingPathComponent(name))
            }
        }
        let summary = try trainer.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        let lines = try String(contentsOf: trainer.stepLogURL, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.map { $0["iteration"] as? Int } == [2, 4, 6])
        #expect(objects.map { $0["epoch"] as? Int } == [1, 2, 3])
        for object in objects { #expect((object["terms"] as? [String: Any])?.keys.sorted() == ["source_ce"]) }
        #expect(summary.state.history.count == 3)

        // An unfinished epoch 2 left a line behind before the interruption.
        let handle = try FileHandle(forWritingTo: interrupted.appendingPathComponent("steps.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"epoch\": 2, \"iteration\": 4, \"terms\": {\"source_ce\": 9}}\n".utf8))
        try handle.close()
        let resumed = Trainer(method: make(), configuration: config, runDirectory: interrupted)
        _ = try resumed.fit(sourceTraining: source, sourceValidation: source, targetTraining: target, resume: true)
        #expect(try String(contentsOf: resumed.stepLogURL, encoding: .utf8) == String(contentsOf: trainer.stepLogURL, encoding: .utf8))
    }

    /// A method whose weights become NaN in epoch 2 stops the run with a clear error; the epoch-1 checkpoint stays
    /// and loads.
    @Test func nonFiniteLossStopsTheRun() throws {
        let poisoned = HookedSourceOnly()
        poisoned.before = { encoder, context in
            if context.epoch == 1 { encoder.fc.weight.assign([Float](repeating: .nan, count: 48)) }
        }
        let dir = temporaryDirectory()
        let trainer = Trainer(method: poisoned, configuration: configuration(epochs: 3), runDirectory: dir)
        #expect {
            _ = try trainer.fit(sourceTraining: source, sourceValidation: source, targetTraining: target)
        } throws: { error in
            guard case let TrainingError.nonFiniteLoss(epoch, _, term, _, checkpoint)? = error as? TrainingError else { return false }
            return epoch == 2 && term == "source_ce" && checkpoint == trainer.checkpointURL.path
                && "\(error)".contains("last good checkpoint")
        }
        let state = try Checkpoint.load(into: SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4),
                                        from: trainer.checkpointURL)
        #expect(state.completedEpochs == 1)
    }

    /// Model selection: a higher held-out accuracy wins; at equal accuracy (common once a small validation set
    /// saturates) the lower held-out cross-entropy wins; the first epoch always counts as an improvement.
    @Test func selectionBreaksAccuracyTiesByLoss() {
        var state = TrainerState(generatorState: [0])
        #expect(Trainer.improves(accuracy: 10, loss: 9, over: state))
        state.bestEpoch = 3
        state.bestValidationAccuracy = 100
        state.bestValidationLoss = 0.5
        #expect(Trainer.improves(accuracy: 100, loss: 0.4, over: state))
        #expect(!Trainer.improves(accuracy: 100, loss: 0.6, over: state))
        #expect(!Trainer.improves(accuracy: 90, loss: 0.1, over: state))
    }

    /// A truncated checkpoint, and one with a changed data byte, are rejected on load.
    @Test func damagedCheckpointIsDetected() throws {
        let dir = temporaryDirectory()
        let method = SourceOnly(encoder: TinyBackbone(seed: 3), classCount: 3, seed: 4)
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        try Checkpoint.save(method: method, trainerState: TrainerState(generatorState: [1, 2, 3, 4]), to: url)
        let bytes = try Data(contentsOf: url)
        _ = try Checkpoint.load(into: method, from: url)

        try bytes.prefix(bytes.count / 2).write(to: url)
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.load(into: method, from: url) }

        var flipped = bytes
        flipped[flipped.count - 3] ^= 0x40
        try flipped.write(to: url)
        #expect(throws: CheckpointError.self) { _ = try Checkpoint.load(into: method, from: url) }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".checkpoint.safetensors.tmp-\(getpid())").path))
    }
}
