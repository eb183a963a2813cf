@testable import DomainAdaptation
import Foundation
import Testing

@Suite struct HyperparametersTests {
    /// `value` as a JSON object.
    func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
    }

    /// Decodes `T` from a JSON object.
    func decode<T: Decodable>(_ type: T.Type, _ object: [String: Any]) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// Every value of one layer of `T` moved off its default by `offset` (so a field the coder dropped would come back
    /// as its default and differ), decoded and encoded again.
    func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ defaults: T) throws {
        var changed: [String: Double] = [:]
        for (key, value) in try object(defaults) { changed[key] = (value as! NSNumber).doubleValue + 3 }
        let decoded = try decode(T.self, changed)
        #expect(decoded != defaults)
        let again = try object(decoded)
        #expect(Set(again.keys) == Set(changed.keys))
        for (key, value) in changed {
            #expect(abs((again[key] as! NSNumber).doubleValue - value) < 1e-6 * max(1, abs(value)), "\(T.self).\(key)")
        }
    }

    @Test func everyMethodsValuesRoundTrip() throws {
        try roundTrip(OptimizerSettings.self, OptimizerSettings())
        try roundTrip(ADDA.Hyperparameters.self, ADDA.Hyperparameters())
        try roundTrip(SelfEnsemble.Hyperparameters.self, SelfEnsemble.Hyperparameters())
        try roundTrip(CGDM.Hyperparameters.self, CGDM.Hyperparameters())
        try roundTrip(AdaMatch.Hyperparameters.self, AdaMatch.Hyperparameters())
    }

    /// The whole set survives a round trip in its sectioned layout, every section present.
    @Test func theSetRoundTripsBySection() throws {
        var h = MethodHyperparameters()
        h.optimizer.fineTuningLearningRate = 3e-4
        h.adda.discriminatorHiddenCount = 64
        h.selfEnsemble.emaDecay = 0.9
        h.cgdm.numK = 2
        h.adamatch.targetMultiplier = 5
        #expect(Set(try object(h).keys) == ["optimizer", "adda", "selfEnsemble", "cgdm", "adamatch"])
        #expect(try JSONDecoder().decode(MethodHyperparameters.self, from: JSONEncoder().encode(h)) == h)
    }

    /// A missing key, in a section or a whole section, is an error naming it; nothing falls back to a default.
    @Test func aMissingKeyIsNamed() throws {
        var sections = try object(MethodHyperparameters())
        var cgdm = sections["cgdm"] as! [String: Any]
        cgdm["numK"] = nil
        sections["cgdm"] = cgdm
        #expect { _ = try decode(MethodHyperparameters.self, sections) } throws: { error in
            (error as? DecodingError)?.summary == "cgdm.numK is missing"
        }
        sections = try object(MethodHyperparameters())
        sections["adda"] = nil
        #expect { _ = try decode(MethodHyperparameters.self, sections) } throws: { error in
            (error as? DecodingError)?.summary == "adda is missing"
        }
    }

    /// A key the layout does not know (misspelt, or a section of another version) is an error naming it.
    @Test func anUnknownKeyIsNamed() throws {
        var sections = try object(MethodHyperparameters())
        var adamatch = sections["adamatch"] as! [String: Any]
        adamatch["tau"] = 0.8
        sections["adamatch"] = adamatch
        #expect { _ = try decode(MethodHyperparameters.self, sections) } throws: { error in
            (error as? DecodingError)?.summary.hasPrefix("adamatch: unknown key tau (known: relativeThreshold, targetMultiplier)") == true
        }
        sections = try object(MethodHyperparameters())
        sections["fixmatch"] = [String: Any]()
        #expect { _ = try decode(MethodHyperparameters.self, sections) } throws: { error in
            (error as? DecodingError)?.summary.hasPrefix("unknown key fixmatch") == true
        }
    }

    /// The flat layout of earlier `run.json` files, each key with its own value, lands key by key in its section.
    static let flat: [String: Any] = [
        "learningRate": 0.002, "fineTuningLearningRate": 0.0003, "weightDecay": 0.0004,
        "addaTargetLearningRate": 0.00002, "addaDiscriminatorLearningRate": 0.0005, "discriminatorHiddenCount": 128,
        "emaDecay": 0.95, "confidenceThreshold": 0.9, "unsupervisedWeight": 2.5, "classBalanceWeight": 0.01,
        "cgdmNumK": 3, "pseudoLabelInterval": 50, "cgdmWarmupEpochs": 2, "entropyWeight": 0.02,
        "pseudoLabelWeight": 0.03, "gradientDiscrepancyWeight": 0.04, "relativeThreshold": 0.8, "adaMatchTargetMultiplier": 2,
    ]

    @Test func theFlatLayoutIsMigrated() throws {
        let migrated = try decode(MethodHyperparameters.self, Self.flat)
        var expected = MethodHyperparameters()
        expected.optimizer.learningRate = 0.002
        expected.optimizer.fineTuningLearningRate = 0.0003
        expected.optimizer.weightDecay = 0.0004
        expected.adda.targetLearningRate = 0.00002
        expected.adda.discriminatorLearningRate = 0.0005
        expected.adda.discriminatorHiddenCount = 128
        expected.selfEnsemble.emaDecay = 0.95
        expected.selfEnsemble.confidenceThreshold = 0.9
        expected.selfEnsemble.unsupervisedWeight = 2.5
        expected.selfEnsemble.classBalanceWeight = 0.01
        expected.cgdm.numK = 3
        expected.cgdm.pseudoLabelInterval = 50
        expected.cgdm.warmupEpochs = 2
        expected.cgdm.entropyWeight = 0.02
        expected.cgdm.pseudoLabelWeight = 0.03
        expected.cgdm.gradientDiscrepancyWeight = 0.04
        expected.adamatch.relativeThreshold = 0.8
        expected.adamatch.targetMultiplier = 2
        #expect(migrated == expected)
        #expect(Set(Self.flat.keys) == LegacyHyperparameters.keys)
        #expect(Set(try object(try decode(LegacyHyperparameters.self, Self.flat)).keys) == LegacyHyperparameters.keys)
    }

    /// A flat file without one of its keys (or with a key the flat layout never had) is refused with the key named.
    @Test func anIncompleteFlatLayoutIsRefused() throws {
        var flat = Self.flat
        flat["emaDecay"] = nil
        #expect { _ = try decode(MethodHyperparameters.self, flat) } throws: { error in
            (error as? DecodingError)?.summary == "emaDecay is missing"
        }
        flat = Self.flat
        flat["numK"] = 4
        #expect { _ = try decode(MethodHyperparameters.self, flat) } throws: { error in
            (error as? DecodingError)?.summary.hasPrefix("unknown key numK") == true
        }
    }

    /// `run.json` files: a flat one reads as the migrated configuration; an unreadable one is one line naming the file
    /// and the key.
    @Test func runJSONOfEitherLayout() throws {
        let directory = temporaryDirectory()
        let url = directory.appendingPathComponent("run.json")
        var config = ExperimentConfiguration(method: .cgdm, backbone: "tiny", epochs: 2, batchSize: 4, seed: 1)
        config.hyperparameters = try decode(MethodHyperparameters.self, Self.flat)
        try Experiment.writeJSON(config, to: url)
        #expect(try Experiment.readConfiguration(url) == config)
        var file = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        file["hyperparameters"] = Self.flat
        try JSONSerialization.data(withJSONObject: file).write(to: url)
        #expect(try Experiment.readConfiguration(url) == config)
        var incomplete = Self.flat
        incomplete["cgdmNumK"] = nil
        file["hyperparameters"] = incomplete
        try JSONSerialization.data(withJSONObject: file).write(to: url)
        #expect { _ = try Experiment.readConfiguration(url) } throws: { error in
            "\(error)" == "\(url.path) is not a readable run.json: hyperparameters.cgdmNumK is missing"
        }
    }

    /// Each hyperparameter is a run option of its own, named by its dotted path.
    @Test func runOptionsNameEachHyperparameter() {
        var config = ExperimentConfiguration(method: .adda, backbone: "tiny", epochs: 1, batchSize: 4, seed: 1)
        let before = config.runOptions
        config.hyperparameters.adda.targetLearningRate = 2e-5
        let after = config.runOptions
        #expect(before["hyperparameters"] == nil && before["hyperparameters.cgdm.numK"] == "4")
        #expect(Set(before.keys) == Set(after.keys))
        #expect(Set(before.keys).filter { before[$0] != after[$0] } == ["hyperparameters.adda.targetLearningRate"])
    }
}
