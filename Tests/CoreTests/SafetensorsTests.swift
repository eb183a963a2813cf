import Core
import Foundation
import Testing

/// A safetensors byte string from a raw header (unpadded) and data section.
private func file(_ header: String, _ data: [UInt8] = []) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

private func decodeError(_ data: Data) -> SafetensorsError? {
    do { _ = try Safetensors.decode(data); return nil } catch let e as SafetensorsError { return e } catch { return nil }
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct SafetensorsTests {
    private static let special: [Float] = [0, -0.0, 1, -1.5, .pi, .infinity, -.infinity, .nan,
                                           Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude, .greatestFiniteMagnitude]

    private func sampleState() -> StateDict {
        var state = StateDict()
        state["conv1.weight"] = Tensor(shape: [11], scalars: Self.special)
        state["bn1.running_mean"] = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        state["bn1.num_batches_tracked"] = Tensor(12345)
        state["empty"] = Tensor(shape: [0, 4], scalars: [])
        state["fc.\"odd\"\\key\n"] = Tensor(shape: [1], scalars: [7])
        state.integerKeys = ["bn1.num_batches_tracked"]
        return state
    }

    @Test func roundTripIsBitExactAndKeepsOrderDtypesAndMetadata() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let state = sampleState()
        try Safetensors.write(state, to: url, metadata: ["format": "pt", "note": "\"quoted\""])
        let contents = try Safetensors.readContents(from: url)
        #expect(contents.state.keys == state.keys)
        for (a, b) in zip(state.entries, contents.state.entries) {
            #expect(a.tensor.shape == b.tensor.shape)
            #expect(a.tensor.scalars.map(\.bitPattern) == b.tensor.scalars.map(\.bitPattern), "\(a.key)")
        }
        #expect(contents.metadata == ["format": "pt", "note": "\"quoted\""])
        #expect(contents.state.integerKeys == ["bn1.num_batches_tracked"])
        #expect(contents.dtypes["bn1.num_batches_tracked"] == .int64 && contents.dtypes["conv1.weight"] == .float32)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["model.safetensors"])

        // Rewriting over an existing file replaces it whole.
        try Safetensors.write(StateDict([("x", Tensor(1))]), to: url)
        #expect(try Safetensors.read(from: url).keys == ["x"])
    }

    @Test func layoutFollowsTheFormat() throws {
        var state = StateDict([("a", Tensor(shape: [2], scalars: [1, -2])), ("n", Tensor(3))])
        state.integerKeys = ["n"]
        let bytes = try Safetensors.encode(state)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0 && 8 + headerLength + 16 == bytes.count)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}"#))
        let data = Array(bytes.suffix(16))
        #expect(data == littleEndianBytes([Float(1).bitPattern, Float(-2).bitPattern]) + littleEndianBytes([Int64(3)]))
    }

    @Test func moduleStateSurvivesTheDisk() throws {
        var g = SeededGenerator(seed: 5)
        let a = Sequential([Linear(inputFeatures: 3, outputFeatures: 4, generator: &g), ReLU(),
                            Linear(inputFeatures: 4, outputFeatures: 2, generator: &g)])
        let b = a.makeCopy() as! Sequential
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.safetensors")
        try Safetensors.write(a.stateDict(), to: url)
        try b.load(stateDict: try Safetensors.read(from: url))
        for (x, y) in zip(a.stateDict().entries, b.stateDict().entries) { #expect(x.tensor.scalars == y.tensor.scalars) }
    }

    @Test func readsHalfBFloatDoubleAndInt64() throws {
        let f16: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7C00, 0x3555, 0x8000]
        let bf16: [UInt16] = [0x3F80, 0xC040]
        let f64 = [0.1, -1e300].map(\.bitPattern)
        let i64: [Int64] = [-7, 1 << 40]
        let header = #"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},"#
            + #""d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},"i":{"dtype":"I64","shape":[2],"data_offsets":[32,48]}}"#
        let contents = try Safetensors.decode(file(header, littleEndianBytes(f16) + littleEndianBytes(bf16)
                                                            + littleEndianBytes(f64) + littleEndianBytes(i64)))
        let s = contents.state
        #expect(s.keys == ["h", "b", "d", "i"])
        #expect(s["h"]!.shape == [2, 3])
        // 0x3555: exponent 13 - 15 = -2, mantissa 341/1024.
        let halves: [Float] = [1, -2, 0x1p-24, .infinity, (1 + 341 / 1024) / 4, -0.0]
        #expect(s["h"]!.scalars.map(\.bitPattern) == halves.map(\.bitPattern))
        #expect(s["b"]!.scalars == [1, -3])
        #expect(s["d"]!.scalars == [Float(0.1), -.infinity])
        #expect(s["i"]!.scalars == [-7, Float(1 << 40)])
        #expect(s.integerKeys == ["i"] && contents.dtypes["b"] == .bfloat16)
    }

    @Test func malformedFilesThrowSpecificErrors() {
        let four = littleEndianBytes([Float(1).bitPattern, Float(2).bitPattern])
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(decodeError(file(ok, four)) == nil)

        #expect(decodeError(Data([1, 2, 3])) == .truncated(expectedBytes: 8, actualBytes: 3))
        #expect(decodeError(file(ok, Array(four.prefix(5)))) == .truncated(expectedBytes: 8 + ok.utf8.count + 8,
                                                                            actualBytes: 8 + ok.utf8.count + 5))
        var huge = file(ok, four)
        huge.replaceSubrange(0..<8, with: littleEndianBytes([UInt64(1) << 62]))
        #expect(decodeError(huge) == .headerLengthBeyondFile(headerLength: 1 << 62, fileSize: huge.count))
        var allOnes = file(ok, four)
        allOnes.replaceSubrange(0..<8, with: [UInt8](repeating: 0xFF, count: 8))
        #expect(decodeError(allOnes) == .headerLengthBeyondFile(headerLength: .max, fileSize: allOnes.count))

        if case .invalidHeader = decodeError(file(#"{"a":{"dtype":"F32""#, four)) {} else { Issue.record("bad JSON") }
        if case .invalidHeader = decodeError(file("[1, 2]", four)) {} else { Issue.record("not an object") }
        if case .invalidHeader = decodeError(file(#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, four)) {} else {
            Issue.record("fractional shape")
        }
        if case .invalidHeader = decodeError(file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, four)) {} else {
            Issue.record("negative shape")
        }
        if case .invalidHeader = decodeError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, four)) {} else {
            Issue.record("one offset")
        }
        if case .invalidHeader = decodeError(file(#"{"__metadata__":{"k":1}}"#)) {} else { Issue.record("metadata value") }

        #expect(decodeError(file(#"{"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}}"#, four))
                == .unsupportedDType(key: "a", dtype: "I8"))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, four))
                == .offsetsOutOfRange(key: "a", begin: 8, end: 0, dataSize: 8))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}}"#, four))
                == .offsetsOutOfRange(key: "b", begin: 100, end: 104, dataSize: 8))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, four))
                == .sizeMismatch(key: "a", shape: [3], dtype: "F32", byteCount: 8))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}}"#, four))
                == .sizeMismatch(key: "a", shape: [1 << 40, 1 << 40], dtype: "F32", byteCount: 8))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, four))
                == .overlappingData(key: "b", otherKey: "a"))
        #expect(decodeError(file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, four)) == .unusedData(offset: 0, dataSize: 8))
        #expect(decodeError(file(ok, four + [0])) == .unusedData(offset: 8, dataSize: 9))
    }

    @Test func corruptedBytesNeverCrash() throws {
        let valid = try Safetensors.encode(sampleState(), metadata: ["a": "b"])
        for length in 0..<valid.count { _ = decodeError(valid.prefix(length)) }
        var g = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var mutated = valid
            for _ in 0..<(1 + g.nextInt(below: 3)) {
                mutated[g.nextInt(below: mutated.count)] = UInt8(truncatingIfNeeded: g.next())
            }
            _ = decodeError(mutated)
        }
    }

    @Test func writerRejectsBadKeys() {
        #expect(throws: SafetensorsError.invalidKey("__metadata__")) {
            try Safetensors.encode(StateDict([("__metadata__", Tensor(1))]))
        }
        #expect(throws: SafetensorsError.invalidKey("a")) { try Safetensors.encode(StateDict([("a", Tensor(1)), ("a", Tensor(2))])) }
    }
}
