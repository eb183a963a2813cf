import Core
import Foundation
import Testing
import TestSupport

/// Mutation fuzzing of the safetensors decoder (see `MutationFuzzer`; `make fuzz` runs more cases).
@Suite struct SafetensorsFuzzTests {
    private static func raw(_ header: String, _ data: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8) + data
    }

    /// Files of every dtype the reader converts, with and without metadata, integer keys and empty tensors.
    static var corpus: [[UInt8]] {
        var state = StateDict()
        state["conv.weight"] = Tensor(shape: [4, 1, 4, 4], scalars: (0..<64).map { Float($0) - 31.5 })
        state["bn.num_batches_tracked"] = Tensor(7)
        state["empty"] = Tensor(shape: [0, 3], scalars: [])
        state.integerKeys = ["bn.num_batches_tracked"]
        let encoded = [try! Safetensors.encode(state), try! Safetensors.encode(state, metadata: ["format": "x", "trainer_state": "{\"epoch\":1}"])]
        return encoded.map { Array($0) } + [
            raw(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"d":{"dtype":"F64","shape":[1],"data_offsets":[6,14]}}"#,
                [0x00, 0x3C, 0x00, 0xFC, 0x80, 0x3F] + withUnsafeBytes(of: (2.5).bitPattern.littleEndian) { Array($0) }),
        ]
    }

    /// Shapes whose element counts overflow or nest deeply: they must be refused, not trapped on.
    static let regressions: [[UInt8]] = [
        raw(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#, []),
        raw(#"{"a":{"dtype":"F32","shape":[0,4294967296,4294967296],"data_offsets":[0,0]}}"#, []),
        raw(#"{"a":{"dtype":"I64","shape":[1073741824,0,1099511627776,1099511627776],"data_offsets":[0,0]}}"#, []),
        raw(#"{"a":{"dtype":"F32","shape":[4611686018427387903],"data_offsets":[0,4]}}"#, [0, 0, 0, 0]),
        raw("{\"a\":" + String(repeating: "[", count: 30_000) + String(repeating: "]", count: 30_000) + "}", []),
        raw(#"{"__metadata__":{"a":1}}"#, []),
    ]

    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
                         "\"F16\"", "\"BF16\"", "\"F64\"", "\"I64\"", "\"U8\"", "-1", "1e999", "null", "\\u0000"].map { Array($0.utf8) }

    @Test func mutatedFilesAreDecodedOrRejectedWithoutCrashing() {
        var fuzzer = MutationFuzzer(name: "safetensors", defaultCases: 300)
        fuzzer.tokens = Self.tokens
        let report = fuzzer.run(corpus: Self.corpus, regressions: Self.regressions) { bytes in
            let contents = try Safetensors.decode(Data(bytes))
            for (_, tensor) in contents.state.entries { _ = tensor.scalars.reduce(0, +) }
        }
        print(report)
        #expect(report.accepted > 0 && report.rejected > 0)
    }

    @Test func overflowingShapesAreRejected() {
        for bytes in Self.regressions.prefix(2) + [Self.regressions[3]] {
            #expect(throws: SafetensorsError.self) { try Safetensors.decode(Data(bytes)) }
        }
    }
}
