import Foundation

/// Checks made before a command reads or writes a file, so that a bad path ends in one clear sentence before any
/// work is done (and before anything is overwritten).
public enum FilePreflight {
    /// Why `path` cannot be read as a regular file, or nil when it can. The file is never opened: opening a FIFO
    /// blocks until a writer appears.
    public static func readProblem(path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errnoText() }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return "is a directory"
        default: return "is not a regular file"
        }
        return access(path, R_OK) == 0 ? nil : errnoText()
    }

    /// Why a file cannot be created or replaced at `path`, or nil when it can. The path must not name a
    /// directory or a special file; its directory (or, with `creatingDirectories`, its nearest existing ancestor)
    /// must accept a new file, which is tested by creating and removing a hidden probe file there, so read-only
    /// file systems, `/proc` and missing permissions are found even for root.
    public static func writeProblem(path: String, creatingDirectories: Bool = false) -> String? {
        if let problem = replacementProblem(path: path) { return problem }
        var info = stat()
        var directory = (absolute(path) as NSString).deletingLastPathComponent
        while creatingDirectories, stat(directory, &info) != 0, errno == ENOENT, directory != "/" {
            directory = (directory as NSString).deletingLastPathComponent
        }
        guard stat(directory, &info) == 0 else { return "directory \(directory): \(errnoText().lowercased())" }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(directory) is not a directory" }
        let probe = (directory as NSString).appendingPathComponent(".deeplense-write-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return "cannot create files in \(directory): \(errnoText().lowercased())" }
        close(descriptor)
        unlink(probe)
        return nil
    }

    /// `path` made absolute, with symbolic links, `.` and `..` resolved; for a path that does not exist yet, its
    /// nearest existing ancestor is resolved and the rest appended. Two paths name the same file when their
    /// resolved paths are equal.
    public static func resolvedPath(_ path: String) -> String {
        var head = absolute(path)
        var tail: [String] = []
        while true {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                var result = String(cString: resolved)
                for component in tail.reversed() { result = (result as NSString).appendingPathComponent(component) }
                return result
            }
            let parent = (head as NSString).deletingLastPathComponent
            if parent == head || parent.isEmpty { return absolute(path) }
            tail.append((head as NSString).lastPathComponent)
            head = parent
        }
    }

    /// Bytes an unprivileged writer can still use on the file system holding `directory` (`statvfs`), or nil
    /// when the file system does not say.
    public static func availableBytes(inDirectory directory: String) -> Int? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let (bytes, overflow) = Int(info.f_bavail).multipliedReportingOverflow(by: Int(info.f_frsize))
        return overflow ? Int.max : bytes
    }

    private static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        guard !expanded.hasPrefix("/") else { return expanded }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
    }

    /// Why a regular file cannot take the place of `path` (it names a directory or a special file), or nil when
    /// nothing or a regular file is there.
    static func replacementProblem(path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "is a directory"
        default: return "is not a regular file"
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
