import Foundation

/// A value behind a lock: the one lock wrapper for process-wide state (thread count, counters, scratch pools,
/// caches).
package final class LockedValue<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    package init(_ value: Value) { stored = value }

    /// The value (read or replaced under the lock).
    package var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }

    /// Runs `body` on the value with the lock held.
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&stored)
    }
}

/// A thread-safe table of values built once per key and shared by every caller and thread (plans, bases, filter
/// expansions).
///
/// `make` runs with the table locked, so a key is built once even when threads ask for it together, and builders
/// never run concurrently (FFTW's planner needs that). `make` must not ask the same cache for a value. Values the
/// cache drops (`removeAll`, or the size budget) are released after the lock is let go, so their deinitialisers may
/// take other locks.
package final class LockedCache<Key: Hashable, Value>: @unchecked Sendable {
    private struct Table {
        var values: [Key: Value] = [:]
        var builds = 0
    }

    private let table = LockedValue(Table())
    private let limit: Int
    private let size: (Value) -> Int

    /// An unbounded cache.
    package init() {
        limit = .max
        size = { _ in 0 }
    }

    /// A cache that empties itself before its values would exceed `limit` in total `size` (so a sweep over many keys
    /// stays bounded).
    package init(limit: Int, size: @escaping (Value) -> Int) {
        self.limit = limit
        self.size = size
    }

    /// The value for `key`, built by `make` on first use.
    package func value(for key: Key, make: () throws -> Value) rethrows -> Value {
        var dropped: [Key: Value] = [:]
        defer { dropped.removeAll() }
        return try table.withLock { table in
            if let value = table.values[key] { return value }
            let value = try make()
            table.builds += 1
            if limit != .max, table.values.values.reduce(size(value), { $0 + size($1) }) > limit {
                swap(&dropped, &table.values)
            }
            table.values[key] = value
            return value
        }
    }

    /// Number of values this cache has built (kept across `removeAll`).
    package var buildCount: Int { table.value.builds }

    /// Forgets every value (each is released once its last user lets go of it).
    package func removeAll() {
        var dropped: [Key: Value] = [:]
        table.withLock { swap(&dropped, &$0.values) }
    }
}
