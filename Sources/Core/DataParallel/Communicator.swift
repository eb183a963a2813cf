import Foundation

/// The collective operations data-parallel training needs from a message-passing layer (MPI, or threads in tests).
///
/// Every rank of a group must call the same collectives in the same order with buffers of the same length; the
/// calls block until every rank has joined. Implementations must give every rank bit-identical results (the
/// parameters of the ranks then stay identical step after step). Calls come from one thread per rank.
public protocol Communicator: AnyObject {
    /// This process's index in the group, `0..<size`.
    var rank: Int { get }
    /// Number of ranks in the group.
    var size: Int { get }
    /// Replaces `buffer` on every rank by the element-wise sum over the ranks.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces `buffer` on every rank by the element-wise sum over the ranks.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Replaces `buffer` on every rank by rank `root`'s values.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int)
}

/// The group of one process: every collective leaves its buffer as it is.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {}
}

/// The ranks of one data-parallel run and the collectives they share, with the time spent in them.
///
/// Synchronous data parallelism (Goyal et al. 2017, "Accurate, Large Minibatch SGD"): every rank holds the same
/// parameters, takes its shard of each global batch, and the ranks average their gradients before every optimizer
/// step, so a run over `size` ranks follows the single-process run with the same global batch up to round-off.
public final class DataParallelGroup: @unchecked Sendable {
    public let communicator: Communicator
    /// Seconds spent inside collectives since the group was made (or since `resetTiming`).
    public private(set) var communicationSeconds: Double = 0
    /// Values (floats and doubles) reduced since the group was made (or since `resetTiming`).
    public private(set) var reducedValues = 0

    public init(_ communicator: Communicator) { self.communicator = communicator }

    /// The group of one process.
    public static func singleProcess() -> DataParallelGroup { DataParallelGroup(SingleProcessCommunicator()) }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    /// Whether this rank writes files and prints (rank 0).
    public var isLeader: Bool { communicator.rank == 0 }
    /// Whether more than one rank takes part.
    public var isDistributed: Bool { communicator.size > 1 }

    public func resetTiming() {
        communicationSeconds = 0
        reducedValues = 0
    }

    /// Element-wise sum over the ranks, in place.
    public func sum(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { sum($0) }
    }

    /// Element-wise sum over the ranks, in place.
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard isDistributed, !values.isEmpty else { return }
        timed(values.count) { communicator.allreduceSum(values) }
    }

    /// Element-wise sum over the ranks, in place.
    public func sum(_ values: inout [Double]) {
        guard isDistributed, !values.isEmpty else { return }
        timed(values.count) { values.withUnsafeMutableBufferPointer { communicator.allreduceSum($0) } }
    }

    /// Rank `root`'s values on every rank.
    public func broadcast(_ values: inout [Float], root: Int = 0) {
        guard isDistributed, !values.isEmpty else { return }
        timed(0) { values.withUnsafeMutableBufferPointer { communicator.broadcast($0, root: root) } }
    }

    /// Gives every parameter and buffer of `module` rank `root`'s values (parameters start identical on every rank).
    public func broadcastTensors(of module: Module, root: Int = 0) {
        guard isDistributed else { return }
        for (_, tensor, _) in module.namedTensors() {
            var values = tensor.scalars
            broadcast(&values, root: root)
            if rank != root { tensor.assign(values) }
        }
    }

    /// Whether `flag` holds on every rank (a collective: every rank must call it).
    public func all(_ flag: Bool) -> Bool {
        guard isDistributed else { return flag }
        var count: [Double] = [flag ? 1 : 0]
        sum(&count)
        return count[0] == Double(size)
    }

    /// Whether every rank holds the same `fingerprint` as rank 0 (a collective).
    public func agree(on fingerprint: UInt64) -> Bool {
        guard isDistributed else { return true }
        // 16-bit pieces are exact in a Float
        let own = (0..<4).map { Float((fingerprint >> (16 * UInt64($0))) & 0xFFFF) }
        var leader = own
        broadcast(&leader)
        return all(leader == own)
    }

    /// A fingerprint of every parameter and buffer of `modules` (FNV-1a over the bit patterns, in order): equal on
    /// two ranks exactly when their values are bit-identical (but for hash collisions).
    public static func fingerprint(of modules: [Module]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for module in modules {
            for (_, tensor, _) in module.namedTensors() {
                tensor.scalars.withUnsafeBufferPointer { values in
                    for value in values { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3 }
                }
            }
        }
        return hash
    }

    /// Runs `checks` on every rank and goes on only when they passed on every rank: a rank whose checks threw
    /// rethrows its error, the others throw `DataParallelRefusal`. So no rank starts a run another refused (it would
    /// wait for that rank in its first collective forever).
    public func agreeToStart(_ checks: () throws -> Void) throws {
        var refusal: Error? = nil
        do { try checks() } catch { refusal = error }
        guard all(refusal == nil) else { throw refusal ?? DataParallelRefusal() }
    }

    /// Runs `body` once every rank has arrived here, e.g. to read a file rank 0 wrote before it arrived.
    @discardableResult
    public func afterLeaderWrote<R>(_ body: () throws -> R) rethrows -> R {
        _ = all(true)
        return try body()
    }

    private func timed(_ count: Int, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        reducedValues += count
    }
}

/// Another rank of the run refused to start; its own error says why.
public struct DataParallelRefusal: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "another process of the run refused to start (its message says why)" }
}

/// Synchronised batch normalisation for data-parallel training: while `group` is bound (the trainer binds it
/// around each training step), batch-statistics modes of `Tensor.batchNorm` use the statistics of the global batch
/// (summed over the ranks) and their backward pass the global gradient sums, so a batch split over ranks is
/// normalised exactly as the whole batch is in one process, and running statistics stay identical on every rank.
/// Costs two small reductions per batch-norm layer and step (`2C` and `3C` doubles).
public enum BatchNormSynchronization {
    @TaskLocal public static var group: DataParallelGroup?
}

/// Which rows of a global batch one rank works on: rank `r` of `k` takes rows `r * n / k ..< (r + 1) * n / k`.
///
/// Every rank draws the same global batch and the same random augmentation of it (the run generator is identical on
/// every rank), then keeps its rows, so the ranks together see exactly the single-process batch.
public struct BatchShard: Sendable, Equatable {
    public let rank: Int
    public let count: Int

    public init(rank: Int, count: Int) {
        precondition(count >= 1 && (0..<count).contains(rank), "shard \(rank) of \(count)")
        self.rank = rank
        self.count = count
    }

    /// The whole batch (one process).
    public static let whole = BatchShard(rank: 0, count: 1)

    /// This rank's rows of `0..<n`.
    public func rows(of n: Int) -> Range<Int> { (rank * n / count)..<((rank + 1) * n / count) }

    /// This rank's rows of a `[N, ...]` tensor (the tensor itself for one process). Not recorded on the tape: shard
    /// inputs, not intermediate results.
    public func local(_ batch: Tensor) -> Tensor {
        guard count > 1 else { return batch }
        let n = batch.shape[0], rows = rows(of: n), stride = batch.count / max(n, 1)
        var shape = batch.shape
        shape[0] = rows.count
        return Tensor(shape: shape, scalars: Array(batch.scalars[(rows.lowerBound * stride)..<(rows.upperBound * stride)]))
    }

    /// This rank's entries of a per-image array (labels, indices).
    public func local<T>(_ values: [T]) -> [T] {
        guard count > 1 else { return values }
        return Array(values[rows(of: values.count)])
    }
}
