/// The parsed header of a `.npy` file (NumPy format specification, "NEP 1 — A simple file format for NumPy
/// arrays"): magic `\x93NUMPY`, version bytes, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0), then
/// a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, H, W), }` (latin-1 in 1.0/2.0,
/// UTF-8 in 3.0), then the raw data.
struct NpyHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
    var major: UInt8
    var minor: UInt8
    /// Offset of the first data byte from the start of the file.
    var dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Parses and validates the header at the start of `bytes` (the whole mapped file).
    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws -> NpyHeader {
        func fail(_ reason: NpyError.Reason) -> NpyError { NpyError(file: file, reason: reason) }
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else { throw fail(.badMagic) }
        let major = bytes[6], minor = bytes[7]
        guard minor == 0, (1...3).contains(major) else { throw fail(.unsupportedVersion(major: major, minor: minor)) }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else {
            throw fail(.headerSizeMismatch(declared: lengthBytes, available: bytes.count - 8))
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let start = 8 + lengthBytes
        guard start + headerLength <= bytes.count else {
            throw fail(.headerSizeMismatch(declared: headerLength, available: bytes.count - start))
        }
        let raw = bytes[start..<(start + headerLength)]
        let text: String
        if major == 3 {
            text = String(decoding: raw, as: UTF8.self)
        } else {
            text = String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
        }
        var parser = PythonLiteralParser(text: text)
        let dict: [String: PythonLiteral]
        do { dict = try parser.parseDictionary() } catch let message as PythonLiteralParser.Failure {
            if message.unterminated {
                throw fail(.headerSizeMismatch(declared: headerLength, available: bytes.count - start))
            }
            throw fail(.malformedHeader(message.text))
        }
        guard parser.remainderIsPadding else {
            throw fail(.headerSizeMismatch(declared: headerLength, available: parser.consumedCount))
        }
        let expectedKeys: Set<String> = ["descr", "fortran_order", "shape"]
        guard Set(dict.keys) == expectedKeys else {
            throw fail(.malformedHeader("keys are \(dict.keys.sorted()), expected \(expectedKeys.sorted())"))
        }
        let descr: String
        switch dict["descr"]! {
        case .string(let s): descr = s
        case let other: throw fail(.unsupportedDType("\(other)"))
        }
        guard case .bool(let fortran) = dict["fortran_order"]! else {
            throw fail(.malformedHeader("fortran_order is not True or False"))
        }
        guard case .tuple(let items) = dict["shape"]! else { throw fail(.malformedHeader("shape is not a tuple")) }
        var shape: [Int] = []
        for item in items {
            guard case .int(let n) = item, n >= 0 else { throw fail(.malformedHeader("shape \(items) has a non-integer or negative extent")) }
            shape.append(n)
        }
        return NpyHeader(descr: descr, fortranOrder: fortran, shape: shape, major: major, minor: minor,
                         dataOffset: start + headerLength)
    }

    /// The bytes of a version 1.0 header (magic through the trailing newline), padded with spaces so the data
    /// starts on a 64-byte boundary, as NumPy >= 1.14 writes it.
    static func encode(descr: String, fortranOrder: Bool, shape: [Int]) -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = dict.utf8.count
        precondition(length <= Int(UInt16.max), "npy v1.0 header too long (\(length) bytes)")
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dict.utf8)
    }
}

/// The values that can appear in a `.npy` header dictionary.
enum PythonLiteral: Equatable {
    case string(String), bool(Bool), int(Int), tuple([PythonLiteral]), list([PythonLiteral]), none
}

/// A recursive-descent parser for the subset of Python literals NumPy headers use.
struct PythonLiteralParser {
    struct Failure: Error { var text: String; var unterminated = false }

    private let chars: [Character]
    private var position = 0

    init(text: String) { chars = Array(text) }

    mutating func parseDictionary() throws -> [String: PythonLiteral] {
        skipSpace()
        try expect("{")
        var result: [String: PythonLiteral] = [:]
        while true {
            skipSpace()
            if peek() == "}" { position += 1; break }
            guard case .string(let key) = try parseValue() else { throw Failure(text: "dictionary key is not a string") }
            skipSpace()
            try expect(":")
            guard result.updateValue(try parseValue(), forKey: key) == nil else { throw Failure(text: "duplicate key '\(key)'") }
            skipSpace()
            if peek() == "," { position += 1; continue }
            skipSpace()
            try expect("}")
            break
        }
        return result
    }

    /// Whether only the spaces, newline or NULs NumPy pads with follow the parsed dictionary.
    var remainderIsPadding: Bool { chars[position...].allSatisfy { $0 == " " || $0 == "\n" || $0 == "\0" } }

    /// Characters consumed so far.
    var consumedCount: Int { position }

    private mutating func parseValue() throws -> PythonLiteral {
        skipSpace()
        guard let c = peek() else { throw Failure(text: "unexpected end of header", unterminated: true) }
        switch c {
        case "'", "\"": return .string(try parseString(quote: c))
        case "(": return .tuple(try parseSequence(close: ")"))
        case "[": return .list(try parseSequence(close: "]"))
        case "{": throw Failure(text: "nested dictionaries are not supported")
        default:
            var word = ""
            while let d = peek(), d.isLetter || d.isNumber || d == "-" || d == "_" { word.append(d); position += 1 }
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                let digits = word.hasSuffix("L") ? String(word.dropLast()) : word
                guard let n = Int(digits) else {
                    throw Failure(text: word.isEmpty ? "unexpected '\(c)'" : "unknown value '\(word)'",
                                  unterminated: position >= chars.count)
                }
                return .int(n)
            }
        }
    }

    private mutating func parseString(quote: Character) throws -> String {
        position += 1
        var s = ""
        while let c = peek() {
            position += 1
            if c == quote { return s }
            if c == "\\", let next = peek() { s.append(next); position += 1 } else { s.append(c) }
        }
        throw Failure(text: "unterminated string", unterminated: true)
    }

    private mutating func parseSequence(close: Character) throws -> [PythonLiteral] {
        position += 1
        var items: [PythonLiteral] = []
        while true {
            skipSpace()
            guard let c = peek() else { throw Failure(text: "unterminated sequence", unterminated: true) }
            if c == close { position += 1; return items }
            items.append(try parseValue())
            skipSpace()
            if peek() == "," { position += 1 } else if peek() != close {
                throw Failure(text: "expected ',' or '\(close)'", unterminated: peek() == nil)
            }
        }
    }

    private func peek() -> Character? { position < chars.count ? chars[position] : nil }

    private mutating func skipSpace() { while let c = peek(), c == " " || c == "\n" || c == "\t" { position += 1 } }

    private mutating func expect(_ c: Character) throws {
        guard let p = peek() else { throw Failure(text: "expected '\(c)' at end of header", unterminated: true) }
        guard p == c else { throw Failure(text: "expected '\(c)', found '\(p)'") }
        position += 1
    }
}
