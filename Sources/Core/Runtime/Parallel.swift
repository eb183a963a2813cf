import Foundation

/// The compute threads every parallel kernel uses. Defaults to the number of active cores; BLAS itself is
/// kept single-threaded and driven from these threads, so the two never oversubscribe the machine.
public enum ComputeThreads {
    private static let state = LockedValue(max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// Number of threads parallel kernels split work over (>= 1).
    public static var count: Int {
        get { state.value }
        set {
            precondition(newValue >= 1, "thread count must be at least 1, got \(newValue)")
            state.value = newValue
        }
    }
}

/// A value behind a lock, for the few process-wide settings (thread count, plan caches).
final class LockedValue<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&stored)
    }
}

/// Splits `0..<count` into at most `ComputeThreads.count` contiguous chunks and runs `body` on each chunk
/// concurrently. Chunk boundaries depend only on `count` and the thread count, so results are reproducible
/// for a fixed thread count.
public func parallelChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = min(ComputeThreads.count, max(1, count / max(1, minimumChunk)))
    if threads <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = count * t / threads, hi = count * (t + 1) / threads
        if lo < hi { body(lo..<hi) }
    }
}

/// Runs `body(i)` for every `i` in `0..<count`, spread over the compute threads in contiguous chunks.
public func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Int) -> Void) {
    parallelChunks(count, minimumChunk: minimumChunk) { range in
        for i in range { body(i) }
    }
}
