import Foundation

/// Writes a file so that readers see either the old or the new complete contents, never a partial file:
/// the bytes go to a temporary file in the same directory, which is flushed to disk (`fsync`) and renamed over the
/// destination (`rename(2)` is atomic within a file system); the directory is then synced so the rename persists.
func writeAtomically(to url: URL, _ writeTemporary: (URL) throws -> Void) throws {
    let directory = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try? FileManager.default.removeItem(at: temporary)
    do {
        try writeTemporary(temporary)
        let handle = try FileHandle(forUpdating: temporary)
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                          NSLocalizedDescriptionKey: "rename failed: \(String(cString: strerror(errno)))"])
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    }
    let fd = open(directory.path, O_RDONLY)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}
