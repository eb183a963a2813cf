import Foundation
import Synchronization
import Testing
@testable import Core

@Suite struct ParallelTests {
    /// Every index runs exactly once, in chunks that depend only on the count and thread count, over many back-to-back
    /// regions (the pool's workers spin, sleep and wake between them).
    @Test func chunksCoverEveryIndexOnce() {
        for round in 0..<2_000 {
            let count = 1 + round % 97
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            defer { hits.deallocate() }
            hits.initialize(repeating: 0, count: count)
            parallelFor(count) { hits[$0] += 1 }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "round \(round)")
            if round % 500 == 0 { usleep(2_000) }  // long enough for the workers to go to sleep
        }
    }

    /// A region started inside a region, or from several threads at once, falls back to Dispatch and still runs
    /// every index once.
    @Test func nestedAndConcurrentRegionsComplete() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<200 {
                parallelFor(8) { _ in
                    parallelFor(4) { _ in total.add(1, ordering: .relaxed) }
                }
            }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 200 * 8 * 4)
    }

    /// More threads than workers started so far: the pool grows, and a later region with fewer threads leaves the
    /// extra workers idle.
    @Test func poolGrowsWithTheThreadCount() {
        let pool = ComputePool()
        for threads in [2, 4, 3, 2, 4] {
            let seen = Atomic<Int>(0)
            let ran = pool.run(threads: threads) { t in seen.add(1 << t, ordering: .relaxed) }
            #expect(ran)
            #expect(seen.load(ordering: .relaxed) == (1 << threads) - 1, "threads \(threads)")
        }
    }
}
