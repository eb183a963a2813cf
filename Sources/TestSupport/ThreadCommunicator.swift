import Core
import Foundation

/// A data-parallel group of threads in one process, for testing data-parallel code without MPI: `run(ranks:)`
/// starts one thread per rank and hands each its `Communicator`. Sums are taken in rank order, so every rank gets
/// bit-identical results, as MPI gives.
public final class ThreadCommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let shared: Exchange

    private init(rank: Int, shared: Exchange) {
        self.rank = rank
        self.size = shared.size
        self.shared = shared
    }

    /// Runs `body(communicator)` for every rank on its own thread and returns the results in rank order.
    public static func run<R>(ranks: Int, _ body: @escaping @Sendable (ThreadCommunicator) -> R) -> [R] {
        let exchange = Exchange(size: ranks)
        let results = ResultSlots<R>(count: ranks)
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                results.set(rank, body(ThreadCommunicator(rank: rank, shared: exchange)))
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        return results.values
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let summed = shared.exchange(rank: rank, Array(buffer).map(Double.init)) { contributions in
            (0..<buffer.count).map { i in contributions.reduce(Float(0)) { $0 + Float($1[i]) } }.map(Double.init)
        }
        for i in 0..<buffer.count { buffer[i] = Float(summed[i]) }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        let summed = shared.exchange(rank: rank, Array(buffer)) { contributions in
            (0..<buffer.count).map { i in contributions.reduce(0) { $0 + $1[i] } }
        }
        for i in 0..<buffer.count { buffer[i] = summed[i] }
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        let values = shared.exchange(rank: rank, Array(buffer).map(Double.init)) { $0[root] }
        for i in 0..<buffer.count { buffer[i] = Float(values[i]) }
    }

    /// One collective at a time: every rank deposits its values, the last to arrive combines them, everyone reads
    /// the result, and the next collective starts once all have read it.
    private final class Exchange: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var contributions: [[Double]?]
        private var result: [Double] = []
        private var arrived = 0, departed = 0, generation = 0

        init(size: Int) {
            self.size = size
            contributions = Array(repeating: nil, count: size)
        }

        func exchange(rank: Int, _ values: [Double], combine: ([[Double]]) -> [Double]) -> [Double] {
            condition.lock()
            defer { condition.unlock() }
            while departed > 0 { condition.wait() }  // the previous collective is still being read
            contributions[rank] = values
            arrived += 1
            let mine = generation
            if arrived == size {
                result = combine(contributions.map { $0! })
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            let value = result
            departed += 1
            if departed == size {
                arrived = 0
                departed = 0
                contributions = Array(repeating: nil, count: size)
                condition.broadcast()
            }
            return value
        }
    }

    private final class ResultSlots<R>: @unchecked Sendable {
        private var slots: [R?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: R) { lock.lock(); slots[index] = value; lock.unlock() }
        var values: [R] { slots.map { $0! } }
    }
}
