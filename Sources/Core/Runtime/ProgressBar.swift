import Foundation

/// A one-line progress bar on standard error: `label [#####.....] 42/100 41% 12.3 it/s ETA 0:14 | extra`.
///
/// Redraws at most ten times a second; when stderr is not a terminal it prints a plain line every 10%.
/// Thread-safe: `advance` may be called from worker threads.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let width = 24
    private let start = Date()
    private let lock = NSLock()
    private var done = 0
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private var extra = ""
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let enabled: Bool

    /// - Parameters:
    ///   - label: what is being counted (shown first on the line).
    ///   - total: the number of steps expected.
    ///   - enabled: set false to silence it (tests, `--quiet`).
    public init(_ label: String, total: Int, enabled: Bool = true) {
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
    }

    /// Marks `steps` more steps done and, optionally, replaces the trailing status text (losses, for example).
    public func advance(by steps: Int = 1, status: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        done = min(done + steps, total)
        if let status { extra = status }
        draw(force: done == total)
    }

    /// Replaces the trailing status text without advancing.
    public func setStatus(_ status: String) {
        lock.lock(); defer { lock.unlock() }
        extra = status
        draw(force: false)
    }

    /// Ends the line (call once when finished).
    public func finish(_ message: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        guard enabled else { return }
        if let message { extra = message }
        draw(force: true)
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Date().timeIntervalSince(start) }

    private func draw(force: Bool) {
        guard enabled else { return }
        let now = Date()
        let decile = done * 10 / total
        if isTerminal {
            guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        } else {
            guard decile != lastDecile else { return }
        }
        lastDraw = now
        lastDecile = decile
        let fraction = Double(done) / Double(total)
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let seconds = now.timeIntervalSince(start)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        var line = "\(label) [\(bar)] \(done)/\(total) \(Int(fraction * 100))% "
        line += String(format: "%.1f it/s ETA %@", rate, ProgressBar.clock(eta))
        if !extra.isEmpty { line += " | " + extra }
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + (isTerminal ? "" : "\n")).utf8))
    }

    /// `h:mm:ss` or `m:ss`.
    public static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
