import Core
import Foundation

extension Data {
    /// Replaces the file at `url` with these bytes through the package's one crash-safe writer (`AtomicFile`:
    /// temporary file, `fsync`, rename, directory `fsync`), so run directories hold complete files or the previous ones.
    func writeAtomically(to url: URL) throws {
        try AtomicFile.write(self, to: url)
    }
}
