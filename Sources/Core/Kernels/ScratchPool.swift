/// A process-wide pool of float scratch buffers (im2col columns, gathered gradients).
///
/// Convolutions borrow a buffer for the duration of one call and give it back, so steady-state training
/// allocates no workspace at all; concurrent callers (tests run in parallel) each get their own buffer.
/// At most `retainedLimit` buffers are kept.
package enum ScratchPool {
    private final class Buffer {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            pointer = .allocate(capacity: capacity)
        }
        deinit { pointer.deallocate() }
    }

    private static let free = LockedValue<[Buffer]>([])
    private static let retainedLimit = 4

    /// Runs `body` with an uninitialised buffer of at least `count` floats, valid only inside `body`.
    package static func withBuffer<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer: Buffer = free.withLock { pool in
            if let index = pool.firstIndex(where: { $0.capacity >= count }) { return pool.remove(at: index) }
            if !pool.isEmpty { pool.removeLast() }
            return Buffer(capacity: max(count, 1))
        }
        defer {
            free.withLock { pool in
                pool.append(buffer)
                pool.sort { $0.capacity < $1.capacity }
                if pool.count > retainedLimit { pool.removeFirst() }
            }
        }
        return try body(buffer.pointer)
    }

    /// Drops every retained buffer (for memory measurements).
    package static func purge() { free.withLock { $0.removeAll() } }
}

/// An array of `count` floats whose contents `fill` must initialise completely (skips zero-filling).
@inline(__always)
func uninitializedFloats(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { fill(buffer.baseAddress!) }
        initialized = count
    }
}
