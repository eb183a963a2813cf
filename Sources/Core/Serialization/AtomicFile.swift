import Foundation

/// Crash-safe file replacement: readers see either the old or the new complete contents, never a partial file.
///
/// The bytes go to one temporary file in the destination's directory, `.<name>.tmp-<pid>-<n>`, which is flushed to
/// disk (`fsync`) and renamed over the destination (`rename(2)` is atomic within a file system); the directory is
/// then synced so the rename itself persists. A process killed mid-write leaves only its temporary file behind,
/// which `isTemporary` recognises so run directories can sweep such orphans.
package enum AtomicFile {
    /// Why a write failed, as one sentence naming the path.
    package struct Failure: Error, Equatable, CustomStringConvertible {
        package let description: String
    }

    private static let sequence = LockedValue(0)

    /// Replaces the contents of `url` with `data`. The directory must exist.
    /// - Throws: `Failure` when `url` names a directory or a special file, or when the temporary file cannot be
    ///   created, written, flushed or renamed (the temporary file is removed again).
    package static func write(_ data: Data, to url: URL) throws(Failure) {
        if let problem = FilePreflight.replacementProblem(path: url.path) {
            throw Failure(description: "cannot write \(url.path): \(problem)")
        }
        let directory = url.deletingLastPathComponent()
        let temporary = temporaryURL(for: url)
        unlink(temporary.path)  // a leftover of an earlier process that had this pid
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = FilePreflight.errnoText()
            throw Failure(description: "cannot write \(url.path): \(FilePreflight.writeProblem(path: url.path) ?? reason)")
        }
        var failure: String?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { failure = FilePreflight.errnoText(); return }
                offset += n
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = FilePreflight.errnoText() }
        close(descriptor)
        if let failure {
            unlink(temporary.path)
            throw Failure(description: "cannot write \(url.path): \(failure)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = FilePreflight.errnoText()
            unlink(temporary.path)
            throw Failure(description: "cannot rename \(temporary.path) to \(url.path): \(reason)")
        }
        let directoryDescriptor = open(directory.path, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 { _ = fsync(directoryDescriptor); _ = close(directoryDescriptor) }
    }

    /// A fresh temporary file next to `url`: `.<name>.tmp-<pid>-<n>`, `n` counting this process's writes.
    static func temporaryURL(for url: URL) -> URL {
        let serial = sequence.withLock { n in n += 1; return n }
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(serial)")
    }

    /// Whether `name` has the form `.<file>.tmp-<pid>[-<n>]` of an atomic write's temporary file.
    package static func isTemporary(_ name: String) -> Bool {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards),
              marker.lowerBound > name.index(after: name.startIndex)
        else { return false }
        let parts = name[marker.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
