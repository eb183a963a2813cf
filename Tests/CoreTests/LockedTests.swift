import Foundation
import Testing
@testable import Core

@Suite struct LockedTests {
    private final class Box: Sendable {
        let size: Int
        init(size: Int) { self.size = size }
    }

    /// Increments from many threads through `withLock` are never lost.
    @Test func lockedValueSerialisesUpdates() {
        let counter = LockedValue(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.value == 8_000)
    }

    /// A key is built once and then shared; another key builds its own value.
    @Test func valuesAreBuiltOncePerKey() {
        let cache = LockedCache<Int, Box>()
        let a = cache.value(for: 1) { Box(size: 1) }
        let b = cache.value(for: 1) { Box(size: 99) }
        let c = cache.value(for: 2) { Box(size: 2) }
        #expect(a === b && a !== c && b.size == 1)
        #expect(cache.buildCount == 2)
    }

    /// Threads asking for one key together get one value from one build.
    @Test func concurrentRequestsBuildOnce() {
        let cache = LockedCache<String, Box>()
        let found = LockedValue<Set<ObjectIdentifier>>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let box = cache.value(for: "k") { usleep(1_000); return Box(size: 1) }
            found.withLock { _ = $0.insert(ObjectIdentifier(box)) }
        }
        #expect(found.value.count == 1 && cache.buildCount == 1)
    }

    /// `removeAll` forgets the values (a value still held stays valid); the build count is kept.
    @Test func removeAllRebuildsOnNextRequest() {
        let cache = LockedCache<Int, Box>()
        let a = cache.value(for: 7) { Box(size: 1) }
        cache.removeAll()
        let b = cache.value(for: 7) { Box(size: 2) }
        #expect(a !== b && a.size == 1 && b.size == 2 && cache.buildCount == 2)
    }

    /// A bounded cache empties itself before its values would exceed the limit in total size.
    @Test func sizeBudgetEmptiesTheCache() {
        let cache = LockedCache<Int, Box>(limit: 10, size: { $0.size })
        let first = cache.value(for: 1) { Box(size: 4) }
        _ = cache.value(for: 2) { Box(size: 6) }  // total 10: within the limit, both kept
        #expect(cache.value(for: 1) { Box(size: 4) } === first && cache.buildCount == 2)
        _ = cache.value(for: 3) { Box(size: 1) }  // total 11: the cache empties, then keeps key 3
        #expect(cache.value(for: 1) { Box(size: 4) } !== first)
        #expect(cache.buildCount == 4)
        #expect(cache.value(for: 3) { Box(size: 1) }.size == 1 && cache.buildCount == 4)
    }

    /// A failing build stores nothing; the next request builds again.
    @Test func failedBuildsAreNotCached() throws {
        struct Refused: Error {}
        let cache = LockedCache<Int, Box>()
        #expect(throws: Refused.self) { try cache.value(for: 1) { throw Refused() } }
        #expect(cache.value(for: 1) { Box(size: 3) }.size == 3 && cache.buildCount == 1)
    }
}
