import Core
import Foundation

/// Everything the trainer needs besides tensors to continue a run exactly where it stopped.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Number of finished epochs.
    public var completedEpochs: Int = 0
    /// 1-based epoch of the saved model (by `selection`; 0 before the first epoch).
    public var bestEpoch: Int = 0
    /// The criterion that picked `bestEpoch` (nil when a state file has no `selection` key: source hold-out).
    public var selection: ModelSelection?
    /// The epoch the source hold-out criterion picks: best held-out source accuracy, ties broken by the lower
    /// cross-entropy (the last epoch for methods that do not select on source data).
    public var sourceSelectedEpoch: Int?
    /// The epoch with the lowest DEV risk, and that risk.
    public var devSelectedEpoch: Int?
    public var devBestRisk: Double?
    /// Best held-out source accuracy in percent (-1 before the first epoch).
    public var bestValidationAccuracy: Double = -1
    /// Held-out source cross-entropy of the best epoch (nil before the first epoch): breaks accuracy ties.
    public var bestValidationLoss: Double?
    /// Epochs since the best one (early stopping compares this with the patience).
    public var epochsWithoutImprovement: Int = 0
    /// Whether early stopping ended the run.
    public var stoppedEarly: Bool = false
    /// The run generator's state after the last finished epoch.
    public var generatorState: [UInt64]
    /// One record per finished epoch.
    public var history: [EpochRecord] = []

    public init(generatorState: [UInt64]) { self.generatorState = generatorState }
}

/// Mean losses and validation accuracy of one epoch.
public struct EpochRecord: Codable, Equatable, Sendable {
    /// 1-based epoch.
    public var epoch: Int
    /// Epoch mean of each loss term the method reports.
    public var losses: [String: Double]
    /// Accuracy (percent) on the held-out split of the labelled source training data.
    public var validationAccuracy: Double
    /// Mean cross-entropy of the prediction on the same held-out source images (nil when a record has no such key).
    public var validationLoss: Double?
    /// Wall-clock seconds of the epoch (informational; not compared when checking reproducibility).
    public var seconds: Double
    /// Deep Embedded Validation risk of the epoch's model and its mean density ratio (`DeepEmbeddedValidation`).
    public var devRisk: Double?
    public var devMeanWeight: Double?
    /// Target test accuracy (percent) logged with `--diagnose-target`: a research diagnostic that uses target labels,
    /// never used to select an epoch or stop.
    public var diagnosticTargetAccuracy: Double?

    public init(epoch: Int, losses: [String: Double], validationAccuracy: Double, validationLoss: Double? = nil,
                seconds: Double, devRisk: Double? = nil, devMeanWeight: Double? = nil, diagnosticTargetAccuracy: Double? = nil) {
        self.epoch = epoch
        self.losses = losses
        self.validationAccuracy = validationAccuracy
        self.validationLoss = validationLoss
        self.seconds = seconds
        self.devRisk = devRisk
        self.devMeanWeight = devMeanWeight
        self.diagnosticTargetAccuracy = diagnosticTargetAccuracy
    }
}

/// Why a checkpoint could not be used.
public enum CheckpointError: Error, CustomStringConvertible {
    case corrupt(path: String, reason: String)
    case mismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .corrupt(path, reason): return "checkpoint \(path) is damaged (\(reason)); delete it to start over"
        case let .mismatch(path, reason): return "checkpoint \(path) does not fit this run: \(reason)"
        }
    }
}

/// One checkpoint file: module states (`module.<name>.<key>`), optimizer states (`optimizer.<name>.<key>`), method
/// extras (`extra.<key>`) in safetensors; in the metadata the trainer state (JSON), the options the run was made with
/// (`run_options`, JSON object of option -> JSON value) and a checksum over all tensor data and both metadata texts.
/// Written atomically; a truncated or altered file (tensors or metadata) fails the safetensors parse or the checksum
/// on load. Files of the first format (checksum over tensors only, no options) are still read.
public enum Checkpoint {
    static let format = "deeplense-uda-checkpoint-2"
    static let firstFormat = "deeplense-uda-checkpoint-1"
    /// Metadata entries covered by the checksum, in checksum order.
    static let checkedMetadata = ["trainer_state", "run_options"]

    /// Collects the full training state of `method`.
    static func contents(of method: UDAMethod) -> StateDict {
        var all = StateDict()
        func add(_ prefix: String, _ state: StateDict) {
            for (key, tensor) in state.entries { all.entries.append((prefix + key, tensor)) }
            for key in state.integerKeys { all.integerKeys.insert(prefix + key) }
        }
        for (name, module) in method.modules { add("module.\(name).", module.stateDict()) }
        for (name, optimizer) in method.optimizers { add("optimizer.\(name).", optimizer.stateDict()) }
        add("extra.", method.extraState())
        return all
    }

    /// The entries of `state` under `prefix`, with the prefix removed.
    static func section(_ state: StateDict, _ prefix: String) -> StateDict {
        var out = StateDict()
        for (key, tensor) in state.entries where key.hasPrefix(prefix) {
            let short = String(key.dropFirst(prefix.count))
            out.entries.append((short, tensor))
            if state.integerKeys.contains(key) { out.integerKeys.insert(short) }
        }
        return out
    }

    /// Writes `state` with `info` (JSON) and `options` atomically to `url`.
    static func write(_ state: StateDict, info: Data, options: [String: String]? = nil, to url: URL) throws {
        var metadata = ["format": format, "trainer_state": String(decoding: info, as: UTF8.self)]
        if let options {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            metadata["run_options"] = String(decoding: try encoder.encode(options), as: UTF8.self)
        }
        metadata["checksum"] = checksum(state, metadata: metadata)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Safetensors.write(state, to: url, metadata: metadata)
    }

    /// What `read` returns: tensors, the trainer-state JSON and the run options (nil when the file has none).
    struct Stored {
        var state: StateDict
        var info: Data
        var options: [String: String]?
    }

    /// Reads and verifies a file written by `write`.
    static func read(from url: URL) throws -> Stored {
        let contents: Safetensors.Contents
        do {
            contents = try Safetensors.readContents(from: url)
        } catch {
            throw CheckpointError.corrupt(path: url.path, reason: "\(error)")
        }
        let metadata = contents.metadata
        guard let version = metadata["format"], version == format || version == firstFormat,
              let info = metadata["trainer_state"], let sum = metadata["checksum"] else {
            throw CheckpointError.corrupt(path: url.path, reason: "not a training checkpoint (metadata missing)")
        }
        let expected = version == format ? checksum(contents.state, metadata: metadata) : checksum(contents.state)
        guard sum == expected else { throw CheckpointError.corrupt(path: url.path, reason: "checksum mismatch") }
        var options: [String: String]? = nil
        if let text = metadata["run_options"] {
            guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) else {
                throw CheckpointError.corrupt(path: url.path, reason: "unreadable run options")
            }
            options = decoded
        }
        return Stored(state: contents.state, info: Data(info.utf8), options: options)
    }

    /// Saves the trainer and method state with the options the run was made with.
    public static func save(method: UDAMethod, trainerState: TrainerState, options: [String: String]? = nil, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try write(contents(of: method), info: try encoder.encode(trainerState), options: options, to: url)
    }

    /// Reads and verifies a checkpoint's trainer state and run options without loading its tensors into a method.
    public static func inspect(_ url: URL) throws -> (trainerState: TrainerState, options: [String: String]?) {
        let stored = try read(from: url)
        do {
            return (try JSONDecoder().decode(TrainerState.self, from: stored.info), stored.options)
        } catch {
            throw CheckpointError.corrupt(path: url.path, reason: "unreadable trainer state")
        }
    }

    /// Restores a method's modules, optimizers and extras from `url` and returns the trainer state.
    public static func load(into method: UDAMethod, from url: URL) throws -> TrainerState {
        let stored = try read(from: url)
        do {
            for (name, module) in method.modules { try module.load(stateDict: section(stored.state, "module.\(name).")) }
            for (name, optimizer) in method.optimizers { try optimizer.load(stateDict: section(stored.state, "optimizer.\(name).")) }
            try method.loadExtraState(section(stored.state, "extra."))
            return try JSONDecoder().decode(TrainerState.self, from: stored.info)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.mismatch(path: url.path, reason: "\(error)")
        }
    }

    /// Saves the prediction modules (`<name>.<key>`) as the run's selected model.
    public static func saveModel(of method: UDAMethod, epoch: Int, to url: URL) throws {
        var all = StateDict()
        for (name, module) in method.predictionModules {
            let state = module.stateDict()
            for (key, tensor) in state.entries { all.entries.append(("\(name).\(key)", tensor)) }
            for key in state.integerKeys { all.integerKeys.insert("\(name).\(key)") }
        }
        try write(all, info: Data("{\"epoch\":\(epoch)}".utf8), to: url)
    }

    /// Loads a model saved by `saveModel` into the method's prediction modules; returns its epoch.
    @discardableResult
    public static func loadModel(into method: UDAMethod, from url: URL) throws -> Int {
        let stored = try read(from: url)
        do {
            for (name, module) in method.predictionModules { try module.load(stateDict: section(stored.state, "\(name).")) }
        } catch {
            throw CheckpointError.mismatch(path: url.path, reason: "\(error)")
        }
        let object = try? JSONSerialization.jsonObject(with: stored.info) as? [String: Any]
        return object?["epoch"] as? Int ?? 0
    }

    /// FNV-1a (64-bit) over every key, shape and float bit pattern in key order, then over the `checkedMetadata`
    /// entries (name, value, each closed by a zero byte); without `metadata`, the first format's tensor-only sum.
    static func checksum(_ state: StateDict, metadata: [String: String]? = nil) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        @inline(__always) func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100000001b3 }
        for (key, tensor) in state.entries.sorted(by: { $0.key < $1.key }) {
            for b in key.utf8 { mix(b) }
            for d in tensor.shape { for k in 0..<8 { mix(UInt8(truncatingIfNeeded: d >> (8 * k))) } }
            tensor.scalars.withUnsafeBufferPointer { values in
                for v in values {
                    let bits = v.bitPattern
                    mix(UInt8(truncatingIfNeeded: bits)); mix(UInt8(truncatingIfNeeded: bits >> 8))
                    mix(UInt8(truncatingIfNeeded: bits >> 16)); mix(UInt8(truncatingIfNeeded: bits >> 24))
                }
            }
        }
        for name in metadata == nil ? [] : checkedMetadata {
            for b in name.utf8 { mix(b) }
            mix(0)
            for b in (metadata?[name] ?? "").utf8 { mix(b) }
            mix(0)
        }
        return String(h, radix: 16)
    }
}
