import Core
@testable import DomainAdaptation
import Foundation
import Testing
import TestSupport

/// Mutation fuzzing of checkpoint reading (see `MutationFuzzer`; `make fuzz` runs more cases): whole files, and
/// the trainer-state JSON in the metadata with the checksum recomputed, so that the decoder and the state checks see
/// every mutation.
@Suite struct CheckpointFuzzTests {
    private static func trainerState(epochs: Int) -> TrainerState {
        var state = TrainerState(generatorState: [1, 2, 3, 0xFFFF_FFFF_FFFF_FFFF])
        state.completedEpochs = epochs
        state.bestEpoch = epochs
        state.bestValidationAccuracy = 87.5
        state.bestValidationLoss = 0.25
        state.history = (0..<epochs).map { EpochRecord(epoch: $0 + 1, losses: ["classification": 0.5, "domain": 0.1],
                                                       validationAccuracy: 80, validationLoss: 0.3, seconds: 1.5) }
        return state
    }

    private static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\"generatorState\"", "\"completedEpochs\"", "\"history\"",
                                 "\"trainer_state\"", "\"checksum\"", "\"format\"", "-1", "1e999", "null", "true", "[]", "18446744073709551616"]
        .map { Array($0.utf8) }

    @Test func mutatedCheckpointsLoadOrFailWithACheckpointError() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let method = SourceOnly(encoder: TinyBackbone(featureCount: 4, channels: 2, seed: 3), classCount: 3, seed: 4)
        var corpus: [[UInt8]] = []
        for epochs in [0, 2] {
            let url = directory.appendingPathComponent("seed\(epochs).safetensors")
            try Checkpoint.save(method: method, trainerState: Self.trainerState(epochs: epochs), to: url)
            corpus.append(Array(try Data(contentsOf: url)))
        }
        let file = directory.appendingPathComponent("case.safetensors")
        var fuzzer = MutationFuzzer(name: "checkpoint", defaultCases: 200)
        fuzzer.tokens = Self.tokens
        let report = fuzzer.run(corpus: corpus) { bytes in
            try Data(bytes).write(to: file)
            do {
                _ = try Checkpoint.load(into: method, from: file)
            } catch {
                #expect(error is CheckpointError, "\(type(of: error)): \(error)")
                throw error
            }
        }
        print(report)
        #expect(report.accepted > 0 && report.rejected > 0)
    }

    @Test func mutatedTrainerStateDecodesOrFailsWithACheckpointError() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let method = SourceOnly(encoder: TinyBackbone(featureCount: 4, channels: 2, seed: 3), classCount: 3, seed: 4)
        let valid = directory.appendingPathComponent("valid.safetensors")
        try Checkpoint.save(method: method, trainerState: Self.trainerState(epochs: 2), to: valid)
        let contents = try Safetensors.readContents(from: valid)
        let encoder = JSONEncoder()
        let corpus = try [0, 1, 3].map { Array(try encoder.encode(Self.trainerState(epochs: $0))) }
        let file = directory.appendingPathComponent("case.safetensors")
        var fuzzer = MutationFuzzer(name: "checkpoint-metadata", defaultCases: 200)
        fuzzer.tokens = Self.tokens
        let report = fuzzer.run(corpus: corpus) { bytes in
            var metadata = contents.metadata
            metadata["trainer_state"] = String(decoding: bytes, as: UTF8.self)
            metadata["checksum"] = Checkpoint.checksum(contents.state, metadata: metadata)
            try Safetensors.write(contents.state, to: file, metadata: metadata)
            do {
                _ = try Checkpoint.load(into: method, from: file)
                let state = try Trainer.checkResumable(file, options: [:], epochs: 3, bestModel: file)
                _ = SeededGenerator(state: state.generatorState)
            } catch {
                #expect(error is CheckpointError, "\(type(of: error)): \(error)")
                throw error
            }
        }
        print(report)
        #expect(report.accepted > 0 && report.rejected > 0)
    }
}
