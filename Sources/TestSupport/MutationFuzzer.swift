import Core
import Foundation

/// A seeded mutation fuzzer for file parsers, run as an ordinary test.
///
/// Each case takes an input from the corpus (valid files built by the test) and applies one to four mutations:
/// bit flips, interesting bytes, little-endian integers written over length fields, tokens of the format
/// inserted, digit runs replaced by huge numbers, deep bracket nesting, deleted, duplicated or spliced ranges,
/// truncation and appended junk. The parser must return or throw; a trap ends the test process, which the
/// `make fuzz` target reports with the input that caused it.
///
/// Environment: `FUZZ_CASES` (mutated cases per parser; the test's default otherwise), `FUZZ_SEED` (the
/// sequence of cases), `FUZZ_HANG_SECONDS` (a case running longer counts as a hang: the input is saved and the
/// process exits with status 3; default 10), `FUZZ_ARTIFACTS` (directory where the running case is kept as
/// `<name>-current.bin` and a hanging one as `<name>-hang.bin`).
public struct MutationFuzzer {
    /// What a run saw.
    public struct Report: CustomStringConvertible {
        public var name: String
        public var cases = 0
        public var accepted = 0
        public var rejected = 0
        public var slowestSeconds = 0.0

        public var description: String {
            "fuzz \(name): \(cases) cases, \(accepted) accepted, \(rejected) rejected, 0 crashes, 0 hangs, "
                + String(format: "slowest case %.3f s", slowestSeconds)
        }
    }

    /// Name used in reports and artifact files.
    public let name: String
    /// Mutated cases to run (the corpus and regression inputs are also run unmutated).
    public let caseCount: Int
    /// Seed of the case sequence.
    public let seed: UInt64
    /// Tokens of the input format that mutations insert (`'shape'`, `"data_offsets"`, `True`, ...).
    public var tokens: [[UInt8]] = []

    private let hangSeconds: Double
    private let artifacts: URL?

    /// A fuzzer running `defaultCases` mutated cases unless `FUZZ_CASES` says otherwise.
    public init(name: String, defaultCases: Int, seed: UInt64 = 20_261_204) {
        let environment = ProcessInfo.processInfo.environment
        self.name = name
        caseCount = environment["FUZZ_CASES"].flatMap { Int($0) } ?? defaultCases
        self.seed = environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? seed
        hangSeconds = environment["FUZZ_HANG_SECONDS"].flatMap { Double($0) } ?? 10
        artifacts = environment["FUZZ_ARTIFACTS"].map { URL(fileURLWithPath: $0, isDirectory: true) }
    }

    /// Runs `body` on every corpus entry and regression input unmutated, then on `caseCount` mutants. `body`
    /// throws to reject an input; returning means the input was accepted.
    public func run(corpus: [[UInt8]], regressions: [[UInt8]] = [], _ body: ([UInt8]) throws -> Void) -> Report {
        precondition(!corpus.isEmpty, "the fuzzer needs at least one valid input")
        if let artifacts { try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true) }
        let current = artifacts?.appendingPathComponent("\(name)-current.bin")
        let watchdog = Watchdog(limit: hangSeconds, hangFile: artifacts?.appendingPathComponent("\(name)-hang.bin"), name: name)
        var report = Report(name: name)
        var generator = SeededGenerator(seed: seed)
        let inputs = corpus + regressions
        for k in 0..<(inputs.count + caseCount) {
            let input = k < inputs.count ? inputs[k] : mutant(of: corpus, using: &generator)
            if let current { try? Data(input).write(to: current) }
            watchdog.begin(input)
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                try body(input)
                report.accepted += 1
            } catch {
                report.rejected += 1
            }
            report.slowestSeconds = max(report.slowestSeconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            watchdog.end()
            report.cases += 1
        }
        watchdog.stop()
        if let current { try? FileManager.default.removeItem(at: current) }
        return report
    }

    // MARK: Mutations

    private static let interestingBytes: [UInt8] = Array("0123456789()[]{},:'\"# -.eL\n\\".utf8) + [0, 0x7F, 0x80, 0xFF, 0x93]
    private static let interestingIntegers: [UInt64] = [
        0, 1, 7, 8, 63, 64, 127, 128, 255, 256, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, .max,
    ]
    private static let hugeNumbers = [
        "0", "-1", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551616",
        "100000", "1e308", "-0", "1.5", "99999999999999999999999999",
    ]

    private func mutant(of corpus: [[UInt8]], using g: inout SeededGenerator) -> [UInt8] {
        var bytes = corpus[Int.random(in: 0..<corpus.count, using: &g)]
        for _ in 0..<Int.random(in: 1...4, using: &g) { mutate(&bytes, corpus: corpus, using: &g) }
        return bytes
    }

    private func mutate(_ bytes: inout [UInt8], corpus: [[UInt8]], using g: inout SeededGenerator) {
        func position(inclusive: Bool = false) -> Int { Int.random(in: 0...(inclusive ? bytes.count : max(0, bytes.count - 1)), using: &g) }
        switch Int.random(in: 0..<11, using: &g) {
        case 0 where !bytes.isEmpty:
            bytes[position()] ^= 1 << UInt8.random(in: 0..<8, using: &g)
        case 1 where !bytes.isEmpty:
            bytes[position()] = Self.interestingBytes.randomElement(using: &g)!
        case 2 where !bytes.isEmpty:
            let width = [1, 2, 4, 8].randomElement(using: &g)!
            let value = Self.interestingIntegers.randomElement(using: &g)!
            let at = position()
            for i in 0..<width where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        case 3 where !tokens.isEmpty:
            bytes.insert(contentsOf: tokens.randomElement(using: &g)!, at: position(inclusive: true))
        case 4:
            replaceDigits(&bytes, using: &g)
        case 5:
            let depth = [2, 65, 1000, 30_000].randomElement(using: &g)!
            let (open, close): (UInt8, UInt8) = Bool.random(using: &g) ? (0x28, 0x29) : (0x5B, 0x5D)
            let at = position(inclusive: true)
            bytes.insert(contentsOf: [UInt8](repeating: open, count: depth) + [UInt8](repeating: close, count: depth), at: at)
        case 6 where !bytes.isEmpty:
            let start = position(), length = Int.random(in: 1...min(64, bytes.count - start), using: &g)
            bytes.removeSubrange(start..<(start + length))
        case 7 where !bytes.isEmpty:
            let start = position(), length = Int.random(in: 1...min(64, bytes.count - start), using: &g)
            bytes.insert(contentsOf: bytes[start..<(start + length)], at: position(inclusive: true))
        case 8:
            let other = corpus.randomElement(using: &g)!
            bytes = Array(bytes.prefix(position(inclusive: true))) + other.suffix(Int.random(in: 0...other.count, using: &g))
        case 9:
            bytes.removeLast(Int.random(in: 0...bytes.count, using: &g))
        default:
            bytes += (0..<Int.random(in: 1...32, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
        }
    }

    /// Replaces one run of ASCII digits with one of `hugeNumbers`.
    private func replaceDigits(_ bytes: inout [UInt8], using g: inout SeededGenerator) {
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let starts = bytes.indices.filter { isDigit(bytes[$0]) && ($0 == 0 || !isDigit(bytes[$0 - 1])) }
        guard let start = starts.randomElement(using: &g) else { return }
        var end = start
        while end < bytes.count, isDigit(bytes[end]) { end += 1 }
        bytes.replaceSubrange(start..<end, with: Array(Self.hugeNumbers.randomElement(using: &g)!.utf8))
    }
}

/// Ends the process when one case runs longer than the limit, saving its input first.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: UInt64?
    private var input: [UInt8] = []
    private var running = true
    private let limit: Double

    init(limit: Double, hangFile: URL?, name: String) {
        self.limit = limit
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.25)
                lock.lock()
                let (active, since, stuck) = (running, started, input)
                lock.unlock()
                guard active else { return }
                if let since, Double(DispatchTime.now().uptimeNanoseconds - since) / 1e9 > self.limit {
                    if let hangFile { try? Data(stuck).write(to: hangFile) }
                    FileHandle.standardError.write(Data("fuzz \(name): HANG, a case ran longer than \(self.limit) s\(hangFile.map { "; input saved to \($0.path)" } ?? "")\n".utf8))
                    exit(3)
                }
            }
        }
        thread.start()
    }

    func begin(_ bytes: [UInt8]) {
        lock.lock()
        started = DispatchTime.now().uptimeNanoseconds
        input = bytes
        lock.unlock()
    }

    func end() {
        lock.lock()
        started = nil
        lock.unlock()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }
}
