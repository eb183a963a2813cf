import ArgumentParser
import Foundation
import Lensing

/// `deeplense inspect FILE.npy`: validates a `.npy` file and prints one JSON object describing it.
public struct InspectCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print shape, dtype, order and statistics of a .npy file as one JSON object.",
        discussion: """
            Keys: path, shape, dtype, fortran_order, format_version, min, max, mean (NaN ignored; null when \
            empty; the strings "inf", "-inf" or "nan" for values JSON cannot hold), nan_count for float arrays, counts (value -> occurrences) for integer and bool arrays. \
            The file is memory-mapped and read in one streaming pass. A malformed file exits with status 1 \
            and the reason on stderr.
            """)

    @Argument(help: "Path of the .npy file.")
    public var file: String

    public init() {}

    public func run() throws {
        let array = try NpyArray(path: file)
        print(NpySummary(array).json)
    }
}
