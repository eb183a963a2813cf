import ArgumentParser
import Core
import Foundation

/// Parses a `--seed` value. Used with `parsing: .unconditional`, so `--seed -1` reaches this function and is
/// answered with the rule instead of ArgumentParser's "Missing value".
func parseSeed(_ text: String) throws -> UInt64 {
    guard let seed = UInt64(text) else {
        throw ValidationError("seeds are non-negative integers (0 to \(UInt64.max)), got '\(text)'")
    }
    return seed
}

/// Checks that `path`, given with `option`, names a readable regular file (never opening it: a FIFO would block).
func requireReadableFile(_ path: String, option: String) throws {
    if let problem = FilePreflight.readProblem(path: path) { throw CommandInputError("\(option) \(path): \(problem)") }
}

/// Checks that a file can be created or replaced at `path`, given with `option`, before any work is done.
func requireWritableFile(_ path: String, option: String, creatingDirectories: Bool = false) throws {
    if let problem = FilePreflight.writeProblem(path: path, creatingDirectories: creatingDirectories) {
        throw CommandInputError("\(option) \(path): \(problem)")
    }
}

/// Refuses an output path that names the same file as an input (after resolving links, `.` and `..`), which
/// writing would destroy.
func requireDistinct(output: String, outputOption: String, input: String, inputDescription: String) throws {
    guard FilePreflight.resolvedPath(output) == FilePreflight.resolvedPath(input) else { return }
    throw CommandInputError("\(outputOption) \(output) is \(inputDescription); writing it would overwrite the source. Choose another path")
}
