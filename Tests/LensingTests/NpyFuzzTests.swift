import Foundation
import Testing
import TestSupport
@testable import Lensing

/// Inputs that once crashed, hung or exhausted memory in the `.npy` reader.
enum NpyRegressionInputs {
    static func header(_ dictionary: String, major: UInt8 = 1, payload: [UInt8] = []) -> [UInt8] {
        handBuiltNpy(descr: "", shape: [], payload: payload, major: major, dictionary: dictionary)
    }

    static let overflowingItem = header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }")
    static let hugeFortranItem = header("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 100000, 100000), }")
    static let deepValue = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': "
        + String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000) + "}", major: 2)
    static let deepShape = header("{'descr': '<f4', 'fortran_order': False, 'shape': "
        + String(repeating: "(", count: 7_000) + String(repeating: ")", count: 7_000) + ",), }", major: 2)
    static let manyEmptyImages = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1, 0, 8), }")
    static let trailingText = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } xyz", payload: [0, 0, 0, 0])

    static let all = [overflowingItem, hugeFortranItem, deepValue, deepShape, manyEmptyImages, trailingText]
}

/// Mutation fuzzing of the `.npy` header parser and data reader (see `MutationFuzzer`; `make fuzz` runs more cases).
@Suite struct NpyFuzzTests {
    /// Valid files: every dtype, both orders, all three format versions, 0-d to 4-d shapes, a v3 header with a comment.
    static var corpus: [[UInt8]] {
        var files: [[UInt8]] = []
        let shapes: [[Int]] = [[3], [2, 3], [2, 1, 2, 3], [0, 4]]
        let descrs = ["<f4", "<f8", ">f4", ">f8", "<i8", "<i4", "|u1", "|b1"]
        for (k, descr) in descrs.enumerated() {
            let shape = shapes[k % shapes.count], fortran = k % 3 == 1
            let count = shape.reduce(1, *)
            let values = (0..<count).map { Double(($0 * 7) % 5) - (descr.hasSuffix("u1") || descr.hasSuffix("b1") ? 0 : 2) }
            let dtype = NpyDType(descr: descr)!
            let payload = encodeValues(values.map { dtype.kind == .bool ? Double(Int($0) & 1) : $0 }, shape: shape,
                                       dtype: dtype, fortranOrder: fortran)
            files.append(handBuiltNpy(descr: descr, fortranOrder: fortran, shape: shape, payload: payload, major: UInt8(1 + k % 3)))
        }
        files.append(NpyRegressionInputs.header("{'descr': '<f4', 'fortran_order': False, 'shape': (), } # scalar",
                                                major: 3, payload: [0, 0, 0x80, 0x3F]))
        return files
    }

    static let tokens = ["'descr'", "'shape'", "'fortran_order'", "True", "False", "None", "(", ")", "[", "]", ",", ":",
                         "'<f4'", "'>f8'", "'|b1'", "#", "\n", "L", "{", "}", "'", "4294967296"].map { Array($0.utf8) }

    @Test func mutatedFilesAreReadOrRejectedWithoutCrashing() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("case.npy")
        var fuzzer = MutationFuzzer(name: "npy", defaultCases: 300)
        fuzzer.tokens = Self.tokens
        let report = fuzzer.run(corpus: Self.corpus, regressions: NpyRegressionInputs.all) { bytes in
            try Data(bytes).write(to: file)
            do {
                let array = try NpyArray(path: file.path)
                let summary = NpySummary(array)
                _ = summary.json
                _ = array.floats(items: 0..<min(array.itemCount, 2))
            } catch let error as NpyError {
                #expect(error.description.count < 400, "one short line: \(error.description.prefix(500))")
                throw error
            }
        }
        print(report)
        #expect(report.accepted > 0 && report.rejected > 0)
    }
}
