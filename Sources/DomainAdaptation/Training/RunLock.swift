import Core
import Foundation

/// An advisory lock (`flock(2)`, exclusive) on a run directory, held from `acquire` until `release` or
/// deinitialisation, so that two processes never write one run at once. The lock lives on `<run>/.lock`, which
/// records the holder's process id; the file stays after release (removing it would let a waiting process lock a
/// file nobody else sees). The kernel drops the lock when the holder exits, however it exits (kill -9 included).
public final class RunLock {
    public let directory: URL
    private var descriptor: Int32

    /// The lock file of `directory`.
    public static func url(in directory: URL) -> URL { directory.appendingPathComponent(".lock") }

    /// Creates `directory` if needed and locks it.
    /// - Throws: `RunDirectoryError.cannotCreate` when the directory cannot be made or written,
    ///   `RunDirectoryError.busy` when another process holds the lock (its pid named when it wrote one).
    public init(acquiring directory: URL) throws {
        self.directory = directory
        if let problem = FilePreflight.writeProblem(path: RunLock.url(in: directory).path, creatingDirectories: true) {
            throw RunDirectoryError.cannotCreate(path: directory.path, reason: problem)
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError.cannotCreate(path: directory.path, reason: (error as NSError).localizedFailureReason
                ?? "cannot create the directory")
        }
        let path = RunLock.url(in: directory).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunDirectoryError.cannotCreate(path: directory.path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            descriptor = -1
            throw RunDirectoryError.busy(path: directory.path, holder: holder.flatMap { Int32($0) })
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock (idempotent).
    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// Why a run directory cannot be used.
public enum RunDirectoryError: Error, Equatable, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    /// Another process holds the directory's lock.
    case busy(path: String, holder: Int32?)
    /// The directory already holds a run and neither resuming nor replacing it was asked for.
    case existingRun(path: String, files: [String])

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason): return "cannot use run directory \(path): \(reason)"
        case let .busy(path, holder):
            return "run directory \(path) is in use by another deeplense process\(holder.map { " (pid \($0))" } ?? ""); "
                + "wait for it to finish or choose another --out"
        case let .existingRun(path, files):
            return "\(path) already holds a run (\(files.joined(separator: ", "))); continue it with --resume, "
                + "replace it with --force, or choose another --out"
        }
    }
}

/// The files a training run writes into its directory, and the housekeeping done before a run starts.
public enum RunDirectory {
    /// Files that make a directory a run (any one of them is enough to refuse a fresh start without `force`).
    public static let runFiles = ["run.json", "checkpoint.safetensors", "best.safetensors", "history.json", "metrics.json"]
    /// Everything a run writes: replaced together by a forced fresh start, so no file of the old run survives next
    /// to the new one.
    public static let outputs = runFiles + ["training_curves.svg", "confusion_matrix.svg", "roc_curves.svg", "comparison-run.json"]
    /// Subdirectories holding runs of their own (the source model trained first, the source-test evaluation).
    public static let subdirectories = ["source-pretraining", "source-test"]

    /// The run files present in `directory` or its subdirectories (as relative paths).
    public static func existingRunFiles(in directory: URL) -> [String] {
        ([""] + subdirectories.map { $0 + "/" }).flatMap { sub in
            runFiles.map { sub + $0 }.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        }
    }

    /// Removes every output of an earlier run (`outputs`, also inside `subdirectories`); other files stay.
    public static func removeOutputs(in directory: URL) throws {
        for sub in [""] + subdirectories.map({ $0 + "/" }) {
            for name in outputs {
                let url = directory.appendingPathComponent(sub + name)
                if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            }
        }
    }

    /// Removes temporary files that an interrupted atomic write (`AtomicFile`: `.<name>.tmp-<pid>-<n>`) left in
    /// `directory` and its subdirectories; returns their names. Only safe while holding the directory's `RunLock`.
    @discardableResult
    public static func removeOrphanTemporaries(in directory: URL) -> [String] {
        var removed: [String] = []
        for sub in [""] + subdirectories.map({ $0 + "/" }) {
            let folder = directory.appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where isAtomicTemporary(name) {
                if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(sub + name) }
            }
        }
        return removed.sorted()
    }

    /// Whether `name` is a temporary file of an atomic write (`AtomicFile.isTemporary`).
    static func isAtomicTemporary(_ name: String) -> Bool { AtomicFile.isTemporary(name) }
}
