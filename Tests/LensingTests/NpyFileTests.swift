import Foundation
import Testing
@testable import Lensing

/// A fresh temporary directory for one test.
func makeTemporaryDirectory(_ name: String = #function) -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lensio-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Builds a `.npy` file by hand: magic, version, header length field, dict text, payload. Every field can lie.
func handBuiltNpy(
    descr: String, fortranOrder: Bool = false, shape: [Int], payload: [UInt8], major: UInt8 = 1,
    declaredHeaderLength: Int? = nil, dictionary: String? = nil, magic: [UInt8] = NpyHeader.magic
) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var dict = dictionary ?? "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
    let lengthBytes = major == 1 ? 2 : 4
    let prefix = 8 + lengthBytes
    dict += String(repeating: " ", count: (64 - (prefix + dict.utf8.count + 1) % 64) % 64) + "\n"
    let length = declaredHeaderLength ?? dict.utf8.count
    var bytes = magic + [major, 0]
    for i in 0..<lengthBytes { bytes.append(UInt8((length >> (8 * i)) & 0xFF)) }
    return bytes + Array(dict.utf8) + payload
}

/// The raw bytes of `values` (given in C order for `shape`) stored as `dtype`, in C or Fortran order.
func encodeValues(_ values: [Double], shape: [Int], dtype: NpyDType, fortranOrder: Bool) -> [UInt8] {
    var ordered = values
    if fortranOrder {
        let strides = shape.indices.map { k in shape[(k + 1)...].reduce(1, *) }
        var fStrides = [Int](repeating: 1, count: shape.count)
        for k in shape.indices.dropFirst() { fStrides[k] = fStrides[k - 1] * shape[k - 1] }
        for c in values.indices {
            var f = 0
            for k in shape.indices { f += (c / strides[k] % shape[k]) * fStrides[k] }
            ordered[f] = values[c]
        }
    }
    var bytes: [UInt8] = []
    func append<T: FixedWidthInteger>(_ v: T) {
        let stored = dtype.isBigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: stored) { bytes += $0 }
    }
    for v in ordered {
        switch dtype.kind {
        case .float32: append(Float(v).bitPattern)
        case .float64: append(v.bitPattern)
        case .int64: append(Int64(v))
        case .int32: append(Int32(v))
        case .uint8: append(UInt8(v))
        case .bool: append(UInt8(v != 0 ? 1 : 0))
        }
    }
    return bytes
}

func writeBytes(_ bytes: [UInt8], to url: URL) { try! Data(bytes).write(to: url) }

@Suite struct NpyFileTests {
    @Test func float32RoundTripKeepsShapeValuesAndAlignment() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x.npy")
        let values: [Float] = (0..<60).map { i -> Float in Float(i) * 0.37 - 5.5 }
        try NpyFile.write(float32: [3, 1, 4, 5], scalars: values, to: url)
        let array = try NpyFile.read(url)
        #expect(array.shape == [3, 1, 4, 5])
        #expect(array.dtype.descr == "<f4")
        #expect(!array.isFortranOrder)
        #expect(array.formatVersion == "1.0")
        #expect(array.floats() == values)
        #expect(array.floats(items: [2, 0]) == Array(values[40..<60]) + Array(values[0..<20]))
        let fileSize = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        #expect((fileSize - values.count * 4) % 64 == 0, "data must start on a 64-byte boundary")
    }

    @Test func int64RoundTripIncludingExtremes() throws {
        let url = makeTemporaryDirectory().appendingPathComponent("labels.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let values: [Int64] = [0, 2, 1, -7, Int64.max, Int64.min]
        try NpyFile.write(int64: [6], values: values, to: url)
        let array = try NpyFile.read(url)
        #expect(array.shape == [6])
        #expect(array.dtype.descr == "<i8")
        #expect(array.int64s(items: 0..<6) == values)
    }

    @Test func everyDtypeOrderAndVersionReadsBackInCOrder() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shape = [2, 3, 4]
        let base = (0..<24).map { Double($0) }
        let descrs = ["<f4", "<f8", ">f4", ">f8", "<i8", "<i4", "|u1", "|b1", ">i8", ">i4"]
        for descr in descrs {
            let dtype = try #require(NpyDType(descr: descr))
            let values = dtype.kind == .bool ? base.map { Double(Int($0) % 3 == 0 ? 1 : 0) } : base
            for fortran in [false, true] {
                for major: UInt8 in [1, 2, 3] {
                    let url = dir.appendingPathComponent("a\(descr.dropFirst())\(dtype.isBigEndian)\(fortran)\(major).npy")
                    let payload = encodeValues(values, shape: shape, dtype: dtype, fortranOrder: fortran)
                    writeBytes(handBuiltNpy(descr: descr, fortranOrder: fortran, shape: shape, payload: payload, major: major), to: url)
                    let array = try NpyFile.read(url)
                    #expect(array.dtype == dtype)
                    #expect(array.isFortranOrder == fortran)
                    #expect(array.formatVersion == "\(major).0")
                    #expect(array.floats() == values.map { Float($0) }, "\(descr) fortran=\(fortran) v\(major)")
                    #expect(array.doubles(items: 1..<2) == Array(values[12..<24]), "\(descr) fortran=\(fortran) v\(major)")
                    if dtype.kind.isInteger {
                        #expect(array.int64s(items: 0..<2) == values.map { Int64($0) })
                    }
                }
            }
        }
    }

    @Test func fortranImagesWithChannelAxisMatchCOrder() throws {
        let url = makeTemporaryDirectory().appendingPathComponent("f.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let shape = [3, 1, 5, 7]
        let values = (0..<105).map { sin(Double($0)) }
        let dtype = NpyDType(kind: .float64)
        writeBytes(handBuiltNpy(descr: "<f8", fortranOrder: true, shape: shape,
                                payload: encodeValues(values, shape: shape, dtype: dtype, fortranOrder: true)), to: url)
        let array = try NpyFile.read(url)
        #expect(array.floats(items: [2, 1]) == (Array(values[70..<105]) + Array(values[35..<70])).map { Float($0) })
    }

    @Test func streamWriterChecksElementCount() throws {
        let url = makeTemporaryDirectory().appendingPathComponent("s.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let writer = try NpyStreamWriter(url: url, kind: .float32, shape: [2, 3])
        try writer.append(floats: [1, 2, 3])
        try writer.append(floats: [4, 5, 6])
        try writer.finish()
        #expect(try NpyFile.read(url).floats() == [1, 2, 3, 4, 5, 6])
        let short = try NpyStreamWriter(url: url, kind: .float32, shape: [2, 3])
        try short.append(floats: [1, 2])
        #expect(throws: NpyError.self) { try short.finish() }
    }

    /// Files written by NumPy 2.4:
    /// `np.save(f, np.asfortranarray(np.arange(24, dtype='>f8').reshape(2, 3, 4)))` and
    /// `np.lib.format.write_array(f, np.arange(6, dtype='<f4'), version=(3, 0))`.
    @Test func readsFilesWrittenByNumPy() throws {
        let fortranBigEndian = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMywgNCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAEAoAAAAAAAAQBAAAAAAAABAMAAAAAAAAEAgAAAAAAAAQDQAAAAAAAA/8AAAAAAAAEAqAAAAAAAAQBQAAAAAAABAMQAAAAAAAEAiAAAAAAAAQDUAAAAAAABAAAAAAAAAAEAsAAAAAAAAQBgAAAAAAABAMgAAAAAAAEAkAAAAAAAAQDYAAAAAAABACAAAAAAAAEAuAAAAAAAAQBwAAAAAAABAMwAAAAAAAEAmAAAAAAAAQDcAAAAAAAA="
        let version3 = "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoNiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA="
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("fortran.npy"), b = dir.appendingPathComponent("v3.npy")
        try Data(base64Encoded: fortranBigEndian)!.write(to: a)
        try Data(base64Encoded: version3)!.write(to: b)
        let fortran = try NpyFile.read(a)
        #expect(fortran.shape == [2, 3, 4] && fortran.isFortranOrder && fortran.dtype.descr == ">f8")
        #expect(fortran.floats() == (0..<24).map(Float.init))
        let v3 = try NpyFile.read(b)
        #expect(v3.formatVersion == "3.0" && v3.floats() == [0, 1, 2, 3, 4, 5])
    }

    @Test func summaryReportsStatisticsAndCounts() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let floats = dir.appendingPathComponent("f.npy"), ints = dir.appendingPathComponent("i.npy")
        try NpyFile.write(float32: [2, 2], scalars: [1, -2, .nan, 7], to: floats)
        try NpyFile.write(int64: [5], values: [2, 0, 2, 1, 2], to: ints)
        let f = NpySummary(try NpyFile.read(floats))
        #expect(f.min == -2 && f.max == 7 && f.mean == 2 && f.nanCount == 1 && f.counts == nil)
        #expect(f.json.contains("\"shape\": [2, 2], \"dtype\": \"<f4\", \"fortran_order\": false"))
        #expect(f.json.contains("\"nan_count\": 1"))
        let i = NpySummary(try NpyFile.read(ints))
        #expect(i.counts == [0: 1, 1: 1, 2: 3] && i.mean == 1.4)
        #expect(i.json.hasSuffix("\"counts\": {\"0\": 1, \"1\": 1, \"2\": 3}}"))
        let parsed = try JSONSerialization.jsonObject(with: Data(i.json.utf8)) as? [String: Any]
        #expect(parsed?["min"] as? Int == 0 && parsed?["max"] as? Int == 2)
    }

    // MARK: Malformed files

    private func reason(of bytes: [UInt8], name: String = "bad.npy") -> NpyError.Reason? {
        let url = makeTemporaryDirectory(name).appendingPathComponent(name)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        writeBytes(bytes, to: url)
        do {
            _ = try NpyFile.read(url)
            return nil
        } catch let error as NpyError {
            #expect(error.file == url.path)
            #expect(error.description.contains(name), "the message names the file")
            return error.reason
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    private let floats6 = encodeValues([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: NpyDType(kind: .float32), fortranOrder: false)

    @Test func badMagicIsRejected() {
        var magic = NpyHeader.magic
        magic[1] = UInt8(ascii: "n")
        #expect(reason(of: handBuiltNpy(descr: "<f4", shape: [2, 3], payload: floats6, magic: magic)) == .badMagic)
        #expect(reason(of: Array("hello".utf8)) == .badMagic)
        #expect(reason(of: []) == .badMagic)
    }

    @Test func unsupportedVersionIsRejected() {
        #expect(reason(of: handBuiltNpy(descr: "<f4", shape: [2, 3], payload: floats6, major: 4))
                == .unsupportedVersion(major: 4, minor: 0))
    }

    @Test func headerLongerThanFileIsRejected() {
        let bytes = handBuiltNpy(descr: "<f4", shape: [2, 3], payload: [], declaredHeaderLength: 5000)
        guard case .headerSizeMismatch(5000, _) = reason(of: bytes) else { Issue.record("expected headerSizeMismatch"); return }
    }

    @Test func headerShorterThanItsDictionaryIsRejected() {
        let bytes = handBuiltNpy(descr: "<f4", shape: [2, 3], payload: floats6, declaredHeaderLength: 30)
        guard case .headerSizeMismatch(30, _) = reason(of: bytes) else { Issue.record("expected headerSizeMismatch"); return }
    }

    @Test func headerLongerThanItsDictionaryIsRejected() {
        // The declared length swallows the first 8 data bytes, which follow the dictionary as text.
        let bytes = handBuiltNpy(descr: "<f4", shape: [2, 3], payload: floats6, declaredHeaderLength: 118 + 8)
        guard case .textAfterHeader = reason(of: bytes) else { Issue.record("expected textAfterHeader"); return }
    }

    @Test func truncatedDataIsRejected() {
        let bytes = handBuiltNpy(descr: "<f4", shape: [2, 3], payload: Array(floats6.dropLast(5)))
        #expect(reason(of: bytes) == .truncatedData(expectedBytes: 24, actualBytes: 19))
    }

    @Test func trailingDataIsRejected() {
        let bytes = handBuiltNpy(descr: "<f4", shape: [2, 2], payload: floats6)
        #expect(reason(of: bytes) == .trailingData(expectedBytes: 16, actualBytes: 24))
    }

    @Test func unsupportedDtypesAreRejected() {
        for descr in ["<f2", "<c8", "<U5", "|O", "<u2", "|f4"] {
            #expect(reason(of: handBuiltNpy(descr: descr, shape: [2, 3], payload: floats6)) == .unsupportedDType(descr))
        }
        let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }"
        guard case .unsupportedDType = reason(of: handBuiltNpy(descr: "", shape: [], payload: floats6, dictionary: structured)) else {
            Issue.record("structured dtype must be unsupported"); return
        }
    }

    @Test func malformedDictionariesAreRejected() {
        let cases = [
            "{'descr': '<f4', 'shape': (2, 3), }",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",
            "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }",
        ]
        for dictionary in cases {
            guard case .malformedHeader = reason(of: handBuiltNpy(descr: "", shape: [], payload: floats6, dictionary: dictionary)) else {
                Issue.record("expected malformedHeader for \(dictionary)"); continue
            }
        }
    }

    @Test func textAfterTheDictionaryIsNamed() throws {
        #expect(reason(of: NpyRegressionInputs.trailingText) == .textAfterHeader("'xyz'"))
        let url = makeTemporaryDirectory().appendingPathComponent("t.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        writeBytes(NpyRegressionInputs.trailingText, to: url)
        #expect(throws: NpyError.self) { try NpyFile.read(url) }
        do { _ = try NpyFile.read(url) } catch {
            #expect("\(error)".contains("unexpected text 'xyz' after the header dictionary"))
        }
    }

    @Test func commentsInTheHeaderAreAcceptedAsNumPyDoes() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (major, dictionary) in [
            (UInt8(3), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } # written by hand"),
            (UInt8(1), "{'descr': '<f4', # little-endian float32\n 'fortran_order': False, 'shape': (2, 3), }"),
        ] {
            let url = dir.appendingPathComponent("c\(major).npy")
            writeBytes(handBuiltNpy(descr: "", shape: [], payload: floats6, major: major, dictionary: dictionary), to: url)
            #expect(try NpyFile.read(url).floats() == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test func structuredDtypeIsPrintedAsPython() {
        let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }"
        #expect(reason(of: handBuiltNpy(descr: "", shape: [], payload: floats6, dictionary: structured))
                == .unsupportedDType("[('a', '<f4')]"))
    }

    @Test func longValuesAreShortenedInMessages() {
        let longDescr = "{'descr': '<" + String(repeating: "f", count: 10_000) + "', 'fortran_order': False, 'shape': (2, 3), }"
        guard case .unsupportedDType(let descr) = reason(of: handBuiltNpy(descr: "", shape: [], payload: floats6, major: 2, dictionary: longDescr)) else {
            Issue.record("expected unsupportedDType"); return
        }
        #expect(descr.count == PythonLiteral.maximumTextLength && descr.hasSuffix("..."))
        let manyKeys = "{" + (0..<1000).map { "'key\($0)': \($0)" }.joined(separator: ", ") + "}"
        guard case .malformedHeader(let message) = reason(of: handBuiltNpy(descr: "", shape: [], payload: [], major: 2, dictionary: manyKeys)) else {
            Issue.record("expected malformedHeader"); return
        }
        #expect(message.count < 160, "\(message.count) characters")
    }

    @Test func shapesWhoseItemsOverflowAreRejected() {
        guard case .malformedHeader(let message) = reason(of: NpyRegressionInputs.overflowingItem) else {
            Issue.record("expected malformedHeader"); return
        }
        #expect(message.contains("(0, 4294967296, 4294967296)"))
    }

    @Test func emptyFortranArraysAllocateNothing() throws {
        let url = makeTemporaryDirectory().appendingPathComponent("f.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        writeBytes(NpyRegressionInputs.hugeFortranItem, to: url)
        let array = try NpyFile.read(url)
        #expect(array.itemCount == 0 && array.elementsPerItem == 10_000_000_000 && array.elementCount == 0)
        #expect(NpySummary(array).min == nil)
    }

    @Test func deepNestingIsRejectedWithAShortMessage() {
        for bytes in [NpyRegressionInputs.deepValue, NpyRegressionInputs.deepShape] {
            #expect(reason(of: bytes) == .malformedHeader("values nest more than 64 levels deep"))
        }
        let shallowButLong = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + String(repeating: "'x', ", count: 5000) + "), }"
        guard case .malformedHeader(let message) = reason(of: handBuiltNpy(descr: "", shape: [], payload: [], major: 2, dictionary: shallowButLong)) else {
            Issue.record("expected malformedHeader"); return
        }
        #expect(message.count < 200, "\(message.count) characters")
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe.npy")
        try #require(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: NpyError(file: fifo.path, reason: .notARegularFile)) { try NpyFile.read(fifo) }
        #expect(throws: NpyError(file: dir.path, reason: .notARegularFile)) { try NpyArray(path: dir.path) }
    }

    @Test func summaryWritesInfinitiesAsStrings() throws {
        let url = makeTemporaryDirectory().appendingPathComponent("inf.npy")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try NpyFile.write(float32: [3], scalars: [.infinity, 1, -.infinity], to: url)
        let json = NpySummary(try NpyFile.read(url)).json
        #expect(json.contains("\"min\": \"-inf\", \"max\": \"inf\", \"mean\": \"nan\""))
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
    }

    @Test func writeFailuresGiveTheSystemReason() {
        #expect(throws: NpyError(file: "/nonexistent/dir/x.npy", reason: .writeFailed("No such file or directory"))) {
            try NpyFile.write(float32: [1], scalars: [1], to: URL(fileURLWithPath: "/nonexistent/dir/x.npy"))
        }
    }

    @Test func missingFileIsReported() {
        #expect(throws: NpyError.self) { try NpyFile.read(URL(fileURLWithPath: "/nonexistent/dir/x.npy")) }
    }
}
