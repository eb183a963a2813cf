#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file (POSIX `mmap`, `MAP_PRIVATE`). Pages are read by the kernel on
/// first touch, so a 2.7 GB DeepLense training file costs nothing until batches are read from it.
final class MappedFile: @unchecked Sendable {
    /// First byte of the mapping (nil for an empty file).
    let base: UnsafeRawPointer?
    /// File size in bytes.
    let size: Int

    /// Maps the regular file at `path`. FIFOs, devices and directories are refused before opening (opening a
    /// FIFO for reading blocks until a writer appears), and again after, should the path change in between.
    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw NpyError(file: path, reason: .cannotOpen(String(cString: strerror(errno)))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw NpyError(file: path, reason: .notARegularFile) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw NpyError(file: path, reason: .cannotOpen(String(cString: strerror(errno)))) }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else {
            throw NpyError(file: path, reason: .cannotOpen(String(cString: strerror(errno))))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw NpyError(file: path, reason: .notARegularFile) }
        size = Int(info.st_size)
        if size == 0 { base = nil; return }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw NpyError(file: path, reason: .cannotOpen("mmap: " + String(cString: strerror(errno))))
        }
        base = UnsafeRawPointer(pointer)
    }

    /// The whole file as bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }
}
