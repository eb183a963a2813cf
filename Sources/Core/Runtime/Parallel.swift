import Foundation
import Synchronization

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

/// Splits `0..<count` into at most `ComputeThreads.count` contiguous chunks and runs `body` on each chunk
/// concurrently. Chunk boundaries depend only on `count` and the thread count, so results are reproducible
/// for a fixed thread count.
public func parallelChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = min(ComputeThreads.count, max(1, count / max(1, minimumChunk)))
    if threads <= 1 { body(0..<count); return }
    let chunk: (Int) -> Void = { t in
        let lo = count * t / threads, hi = count * (t + 1) / threads
        if lo < hi { body(lo..<hi) }
    }
    if !ComputePool.shared.run(threads: threads, chunk) {
        DispatchQueue.concurrentPerform(iterations: threads, execute: chunk)
    }
}

/// Persistent compute threads that wait for work by spinning briefly before they sleep, so a training step's
/// hundreds of short parallel regions do not each pay a thread wake-up (about 7 us per region with
/// `DispatchQueue.concurrentPerform` when serial work separates the regions, against under 1 us here).
///
/// One region runs at a time: a region started while another is running (nested, or from another thread) returns
/// `false` and the caller falls back to `DispatchQueue.concurrentPerform`. Workers spin for `spinBudget`
/// nanoseconds after their last job, yielding the core every few hundred polls so other threads (the batch loader)
/// still run, and then sleep on a condition variable until the next region.
final class ComputePool: @unchecked Sendable {
    static let shared = ComputePool()
    /// How long an idle worker polls for the next region before it sleeps (nanoseconds).
    static let spinBudget: UInt64 = 300_000

    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let condition = NSCondition()
    private var sleepers = 0
    private var workers = 0
    /// The current region's body and thread count, published by the release increment of `generation`.
    private var job: ((Int) -> Void)?
    private var participants = 0

    /// Runs `body(t)` for `t` in `0..<threads`, `t = 0` on the calling thread; `false` if the pool is busy.
    func run(threads: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        while workers < threads - 1 { startWorker(index: workers + 1) }
        withoutActuallyEscaping(body) { body in
            job = body
            participants = threads
            remaining.store(workers, ordering: .relaxed)  // every worker acknowledges every region
            generation.add(1, ordering: .releasing)
            condition.lock()
            if sleepers > 0 { condition.broadcast() }
            condition.unlock()
            body(0)
            var polls = 0
            while remaining.load(ordering: .acquiring) > 0 {
                polls += 1
                if polls & 255 == 0 { sched_yield() }
            }
            job = nil
        }
        return true
    }

    /// Starts worker `index`; it waits for the region after the current generation (read here, before the caller
    /// publishes its region, so a slow thread start cannot miss it).
    private func startWorker(index: Int) {
        workers += 1
        let current = generation.load(ordering: .acquiring)
        let thread = Thread { [unowned self] in self.work(index: index, seen: current) }
        thread.name = "compute-\(index)"
        thread.start()
    }

    private func work(index: Int, seen start: Int) {
        var seen = start
        while true {
            var polls = 0
            var idleSince = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                polls += 1
                guard polls & 255 == 0 else { continue }
                sched_yield()
                if DispatchTime.now().uptimeNanoseconds - idleSince > Self.spinBudget {
                    condition.lock()
                    while generation.load(ordering: .acquiring) == seen {
                        sleepers += 1
                        condition.wait()
                        sleepers -= 1
                    }
                    condition.unlock()
                    idleSince = DispatchTime.now().uptimeNanoseconds
                }
            }
            seen = generation.load(ordering: .acquiring)
            if index < participants { runJob(index) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// Calls the current region's body. A separate frame, so the worker's reference to the closure is released before
    /// it acknowledges the region (`run` lends the closure with `withoutActuallyEscaping`, which checks that no
    /// reference outlives it).
    @inline(never)
    private func runJob(_ index: Int) { job!(index) }
}

/// Runs `body(i)` for every `i` in `0..<count`, spread over the compute threads in contiguous chunks.
public func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Int) -> Void) {
    parallelChunks(count, minimumChunk: minimumChunk) { range in
        for i in range { body(i) }
    }
}
