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
        if let trailing = parser.trailingText {
            throw fail(.textAfterHeader(PythonLiteral.excerpt(String(trailing.reversed().drop { $0.isWhitespace || $0 == "\0" }.reversed()))))
        }
        let expectedKeys: Set<String> = ["descr", "fortran_order", "shape"]
        guard Set(dict.keys) == expectedKeys else {
            let keys = PythonLiteral.list(dict.keys.sorted().map(PythonLiteral.string)).text
            throw fail(.malformedHeader("keys are \(keys), expected ['descr', 'fortran_order', 'shape']"))
        }
        let descr: String
        switch dict["descr"]! {
        case .string(let s): descr = s
        case let other: throw fail(.unsupportedDType(other.text))
        }
        guard case .bool(let fortran) = dict["fortran_order"]! else {
            throw fail(.malformedHeader("fortran_order is \(dict["fortran_order"]!.text), not True or False"))
        }
        guard case .tuple(let items) = dict["shape"]! else {
            throw fail(.malformedHeader("shape \(dict["shape"]!.text) is not a tuple"))
        }
        var shape: [Int] = []
        for item in items {
            guard case .int(let n) = item, n >= 0 else {
                throw fail(.malformedHeader("shape \(dict["shape"]!.text) has a non-integer or negative extent"))
            }
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

    /// Longest text `text` and `excerpt` return, so an error message stays one readable line.
    static let maximumTextLength = 80

    /// The value as Python writes it (`(2, 3)`, `[('a', '<f4')]`), shortened with `...` beyond
    /// `maximumTextLength` characters.
    var text: String {
        var out = ""
        write(to: &out)
        return out.count > Self.maximumTextLength ? String(out.prefix(Self.maximumTextLength - 3)) + "..." : out
    }

    /// `raw` quoted and shortened to at most `maximumTextLength` characters, control characters escaped.
    static func excerpt(_ raw: String) -> String {
        let escaped = raw.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? $0.escaped(asASCII: true) : String($0) }.joined()
        let short = escaped.count > maximumTextLength - 5 ? String(escaped.prefix(maximumTextLength - 8)) + "..." : escaped
        return "'" + short + "'"
    }

    /// Appends the Python spelling, stopping once the text is longer than `maximumTextLength` (values nest at
    /// most `PythonLiteralParser.maximumDepth` deep, so the recursion is bounded).
    private func write(to out: inout String) {
        guard out.count <= Self.maximumTextLength else { return }
        switch self {
        case .string(let s): out += "'" + s.prefix(Self.maximumTextLength) + "'"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let n): out += String(n)
        case .none: out += "None"
        case .tuple(let items), .list(let items):
            let isTuple: Bool
            if case .tuple = self { isTuple = true } else { isTuple = false }
            out += isTuple ? "(" : "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += ", " }
                item.write(to: &out)
                if out.count > Self.maximumTextLength { return }
            }
            if isTuple && items.count == 1 { out += "," }
            out += isTuple ? ")" : "]"
        }
    }
}

/// A recursive-descent parser for the subset of Python literals NumPy headers use, with Python's `#` comments.
/// Tuples and lists nest at most `maximumDepth` deep, so hostile input cannot exhaust the stack.
struct PythonLiteralParser {
    struct Failure: Error { var text: String; var unterminated = false }

    /// Deepest nesting of tuples and lists accepted (a real header nests one level: the shape tuple).
    static let maximumDepth = 64

    private let chars: [Character]
    private var position = 0
    private var depth = 0

    init(text: String) { chars = Array(text) }

    mutating func parseDictionary() throws -> [String: PythonLiteral] {
        skipSpace()
        try expect("{")
        var result: [String: PythonLiteral] = [:]
        while true {
            skipSpace()
            if peek() == "}" { position += 1; break }
            let keyValue = try parseValue()
            guard case .string(let key) = keyValue else { throw Failure(text: "dictionary key \(keyValue.text) is not a string") }
            skipSpace()
            try expect(":")
            guard result.updateValue(try parseValue(), forKey: key) == nil else { throw Failure(text: "duplicate key \(PythonLiteral.string(key).text)") }
            skipSpace()
            if peek() == "," { position += 1; continue }
            skipSpace()
            try expect("}")
            break
        }
        return result
    }

    /// What follows the parsed dictionary besides the spaces, newline, NULs and comments a header may end with
    /// (from the first other character on), or nil.
    var trailingText: String? {
        var copy = self
        copy.skipSpace()
        while copy.peek() == "\0" {
            copy.position += 1
            copy.skipSpace()
        }
        return copy.position < chars.count ? String(chars[copy.position...]) : nil
    }

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
                    throw Failure(text: word.isEmpty ? "unexpected \(PythonLiteral.excerpt(String(c)))"
                                                     : "unknown value \(PythonLiteral.excerpt(word))",
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
        guard depth < Self.maximumDepth else {
            throw Failure(text: "values nest more than \(Self.maximumDepth) levels deep")
        }
        depth += 1
        defer { depth -= 1 }
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

    /// Skips white space and `#` comments (which run to the end of the line).
    private mutating func skipSpace() {
        while let c = peek() {
            if c == " " || c == "\t" || c.isNewline {
                position += 1
            } else if c == "#" {
                while let d = peek(), !d.isNewline { position += 1 }
            } else {
                return
            }
        }
    }

    private mutating func expect(_ c: Character) throws {
        guard let p = peek() else { throw Failure(text: "expected '\(c)' at end of header", unterminated: true) }
        guard p == c else { throw Failure(text: "expected '\(c)', found \(PythonLiteral.excerpt(String(p)))") }
        position += 1
    }
}
