import Backbones
import Core
import DomainAdaptation
import Foundation
import Lensing
import Testing

@Suite struct ComparisonTests {
    @Test func aggregatesMeanStdGainsAndSourceOnSource() {
        func run(_ b: String, _ m: String, _ seed: UInt64, _ acc: Double, source: Double? = nil) -> ComparisonRun {
            ComparisonRun(backbone: b, method: m, seed: seed, accuracy: acc, aurocMacro: acc / 100, aurocMicro: acc / 100,
                          seconds: 10, bestEpoch: 1, sourceAccuracy: source, sourceAurocMacro: nil)
        }
        let results = ComparisonResults(
            profile: .demo, dataDirectory: "/d", dataOrigin: "test", backbones: ["r", "c"], methods: ["source-only", "adda"],
            seeds: [1, 2],
            runs: [run("r", "source-only", 1, 60, source: 96), run("r", "source-only", 2, 62, source: 98),
                   run("r", "adda", 1, 80), run("r", "adda", 2, 84), run("c", "source-only", 1, 70, source: 97)])
        let adda = try! #require(results.cell("r", "adda"))
        #expect(adda.accuracy.mean == 82)
        #expect(abs(adda.accuracy.std - 8.0.squareRoot()) < 1e-12)
        #expect(adda.gainOverSourceOnly == 21)
        #expect(results.cell("r", "source-only")?.gainOverSourceOnly == nil)
        #expect(results.sourceOnSource["r"]?.mean == 97)
        #expect(results.cell("c", "adda") == nil)
        #expect(results.markdown.contains("| r | 61.00 ± 1.41 / 0.610 ± 0.014 | 82.00 ± 2.83 / 0.820 ± 0.028 |"))
        #expect(results.markdown.contains("| c | 70.00 / 0.700 | - |"))
        #expect(ComparisonPlots.accuracySVG(results).contains("<svg"))
        // Paired by seed: gains 20 and 22, mean 21, standard error 1, t(0.975, 1) = 12.706: 21 ± 12.7 excludes 0.
        let gain = try! #require(adda.pairedGain)
        #expect(gain.mean == 21 && abs(gain.standardError - 1) < 1e-12 && gain.count == 2 && gain.excludesZero)
        #expect(abs(gain.lower! - (21 - 12.706)) < 1e-9)
        #expect(results.markdown.contains("| r | +21.00 ± 1.00 (n=2) * |"))
    }

    /// Three seeds whose gains are 5, 6 and 7: mean 6, standard error 1/sqrt(3), interval 6 ± 4.303 * 0.577 > 0.
    @Test func pairedGainIntervalAndCeiling() {
        var runs: [ComparisonRun] = []
        for (seed, base) in [(UInt64(1), 60.0), (2, 70.0), (3, 50.0)] {
            runs.append(ComparisonRun(backbone: "r", method: "source-only", seed: seed, accuracy: base, aurocMacro: 0.8,
                                      aurocMicro: 0.8, seconds: 1, bestEpoch: 1))
            runs.append(ComparisonRun(backbone: "r", method: "adabn", seed: seed, accuracy: base + 4 + Double(seed), aurocMacro: 0.8,
                                      aurocMicro: 0.8, seconds: 1, bestEpoch: 1))
            runs.append(ComparisonRun(backbone: "r", method: ComparisonResults.inDomainMethod, seed: seed, accuracy: 90,
                                      aurocMacro: 0.95, aurocMicro: 0.95, seconds: 1, bestEpoch: 1))
        }
        let results = ComparisonResults(profile: .small, dataDirectory: "/d", dataOrigin: "test", backbones: ["r"],
                                        methods: ["source-only", "adabn"], seeds: [1, 2, 3], runs: runs)
        let gain = try! #require(results.cell("r", "adabn")?.pairedGain)
        #expect(abs(gain.mean - 6) < 1e-12 && abs(gain.standardError - 1 / 3.0.squareRoot()) < 1e-12)
        #expect(gain.excludesZero && abs(gain.lower! - (6 - 4.303 / 3.0.squareRoot())) < 1e-9)
        #expect(results.inDomainCeiling?["r"]?.mean == 90)
        #expect(results.markdown.contains("+6.00 ± 0.58 (n=3) *") && results.markdown.contains("in-domain ceiling"))
        let svg = ComparisonPlots.accuracySVG(results)
        #expect(svg.contains("in-domain ceiling") && svg.components(separatedBy: "<circle").count - 1 == 6)
    }

    /// A profile's adaptation epochs apply to adapting methods that fine-tune the source model, not to source-only
    /// training, the in-domain ceiling, or methods started from scratch; the table header says so.
    @Test func adaptationEpochsApplyToFineTuningOnly() throws {
        let small = ComparisonProfile.small
        #expect(small.adaptationEpochs == 1 && small.epochs == 6)
        var plan = ComparisonPlan(profile: small, backbones: ["resnet18"], methods: MethodKind.allCases, seeds: [1],
                                  dataDirectory: URL(fileURLWithPath: "/d"), outputDirectory: URL(fileURLWithPath: "/o"))
        #expect(plan.configuration(.sourceOnly, backbone: "resnet18", seed: 1).epochs == 6)
        for method in MethodKind.allCases where method.adapts {
            #expect(plan.configuration(method, backbone: "resnet18", seed: 1).epochs == 1, "\(method.rawValue)")
        }
        plan.initialization = .scratch
        #expect(plan.configuration(.selfEnsemble, backbone: "resnet18", seed: 1).epochs == 6)
        #expect(plan.configuration(.adda, backbone: "resnet18", seed: 1).epochs == 1)  // ADDA always fine-tunes

        let runs = [ComparisonRun(backbone: "r", method: "source-only", seed: 1, accuracy: 60, aurocMacro: 0.7, aurocMicro: 0.7,
                                  seconds: 1, bestEpoch: 6, epochs: 6, batchSize: 32),
                    ComparisonRun(backbone: "r", method: "adda", seed: 1, accuracy: 61, aurocMacro: 0.7, aurocMicro: 0.7,
                                  seconds: 1, bestEpoch: 1, epochs: 1, batchSize: 32)]
        let results = ComparisonResults(profile: small, dataDirectory: "/d", dataOrigin: "test", backbones: ["r"],
                                        methods: ["source-only", "adda"], seeds: [1], runs: runs)
        #expect(results.markdown.contains("6 epochs (adapting methods: 1 of fine-tuning from the source model)"))
    }

    /// The whole pipeline on tiny simulated data with a tiny backbone: simulation, every method, results files,
    /// and resumption (a second call skips every finished run).
    @Test func endToEndOnTinySimulatedDataAndResume() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        let profile = tinyComparisonProfile
        var plan = ComparisonPlan(profile: profile, backbones: ["tiny"], methods: MethodKind.allCases, seeds: [1],
                                  dataDirectory: root.appendingPathComponent("data"), outputDirectory: root)
        plan.showProgress = false
        let build: BackboneBuilder = { _, seed in TinyBackbone(seed: seed) }
        var lines: [String] = []
        let results = try Comparison.run(plan, makeBackbone: build) { lines.append($0) }
        #expect(results.runs.count == MethodKind.allCases.count + 1)  // and the in-domain ceiling
        #expect(results.inDomainCeiling?["tiny"] != nil)
        #expect(results.sourceOnSource["tiny"] != nil)
        // One source model per backbone and seed, shared: no method trains its own.
        let sourceModel = Comparison.runDirectory(plan, backbone: "tiny", method: .sourceOnly, seed: 1).appendingPathComponent("best.safetensors").path
        for method in MethodKind.allCases where method.adapts {
            let directory = Comparison.runDirectory(plan, backbone: "tiny", method: method, seed: 1)
            let config = try JSONDecoder().decode(ExperimentConfiguration.self, from: Data(contentsOf: directory.appendingPathComponent("run.json")))
            #expect(config.sourceModel == sourceModel, "\(method.rawValue)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("source-pretraining").path))
        }
        for name in ["results.json", "results.md", "accuracy_by_method.svg", "roc_adda.svg", "data/a_train_data.npy", "data/b_test_labels.npy"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path), "missing \(name)")
        }
        lines.removeAll()
        let again = try Comparison.run(plan, makeBackbone: build) { lines.append($0) }
        #expect(lines.filter { $0.contains("finished earlier") }.count == MethodKind.allCases.count + 1)
        #expect(again.runs.map(\.accuracy) == results.runs.map(\.accuracy))

        // Data made with other priors (or for another profile) is refused with a one-line reason.
        let record = root.appendingPathComponent("data/dataset.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: record)) as? [String: Any])
        #expect((json["priors"] as? String) == DomainPriors.modelA.fingerprint + "-" + DomainPriors.modelB.fingerprint)
        json["priors"] = nil
        try JSONSerialization.data(withJSONObject: json).write(to: record)
        #expect { try Comparison.prepareData(plan) { _ in } } throws: { "\($0)".contains("other Model A/B priors") }
        json["priors"] = DomainPriors.modelA.fingerprint + "-" + DomainPriors.modelB.fingerprint
        json["imageSize"] = 150
        try JSONSerialization.data(withJSONObject: json).write(to: record)
        #expect { try Comparison.prepareData(plan) { _ in } } throws: { "\($0)".contains("was made for 150x150") }
        #expect(results.targetLabel == "Model B")
        // Files the comparison did not simulate are named by their prefix, not by the profile's domain.
        try FileManager.default.removeItem(at: record)
        #expect(try Comparison.prepareData(plan) { _ in }.targetName == "target files 'b'")
    }
}
