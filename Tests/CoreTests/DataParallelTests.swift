import Core
import TestSupport
import Testing

/// Data parallelism inside one process: ranks are threads (`ThreadCommunicator`), so these run without MPI.
@Suite struct DataParallelTests {
    /// Synchronised batch norm over 2 ranks, each with half of a batch, reproduces batch norm of the whole batch:
    /// outputs and input gradients row for row, weight and bias gradients as the sum of the ranks' shares (the
    /// optimizer's averaging then divides by the rank count), running statistics identical on every rank. The
    /// objective is a sum, so no rank-count factor enters. Float32 with statistics combined in float64: 1e-5.
    @Test(arguments: [[8, 3, 4, 4], [6, 5], [4, 2, 3, 3]])
    func synchronisedBatchNormMatchesTheWholeBatch(shape: [Int]) {
        var g = SeededGenerator(seed: 7)
        let count = shape.reduce(1, *), channels = shape[1]
        let x = g.normals(count, mean: 0.5, std: 2), r = g.normals(count)
        let w = g.normals(channels, mean: 1, std: 0.3), b = g.normals(channels)
        @Sendable func normalize(_ input: [Float], rows: Int, weights: [Float]) -> (y: [Float], dx: [Float], dw: [Float], db: [Float], stats: [Float]) {
            var rowShape = shape
            rowShape[0] = rows
            let xt = Tensor(shape: rowShape, scalars: input, requiresGrad: true)
            let wt = Tensor(shape: [channels], scalars: w, requiresGrad: true)
            let bt = Tensor(shape: [channels], scalars: b, requiresGrad: true)
            let mean = Tensor.zeros([channels]), variance = Tensor.ones([channels])
            let y = xt.batchNorm(runningMean: mean, runningVariance: variance, weight: wt, bias: bt, mode: .training)
            (y * Tensor(shape: rowShape, scalars: weights)).sum().backward()
            return (y.scalars, xt.grad!.scalars, wt.grad!.scalars, bt.grad!.scalars, mean.scalars + variance.scalars)
        }
        let whole = normalize(x, rows: shape[0], weights: r)
        let ranks = ThreadCommunicator.run(ranks: 2) { communicator in
            let group = DataParallelGroup(communicator)
            let shard = BatchShard(rank: communicator.rank, count: 2)
            let rows = shard.rows(of: shape[0]), stride = count / shape[0]
            let part = (rows.lowerBound * stride)..<(rows.upperBound * stride)
            return BatchNormSynchronization.$group.withValue(group) {
                normalize(Array(x[part]), rows: rows.count, weights: Array(r[part]))
            }
        }
        #expect(relativeError(ranks[0].y + ranks[1].y, whole.y) < 1e-5)
        #expect(relativeError(ranks[0].dx + ranks[1].dx, whole.dx) < 1e-5)
        #expect(relativeError(zip(ranks[0].dw, ranks[1].dw).map { $0 + $1 }, whole.dw) < 1e-5)
        #expect(relativeError(zip(ranks[0].db, ranks[1].db).map { $0 + $1 }, whole.db) < 1e-5)
        #expect(ranks[0].stats == ranks[1].stats)
        #expect(relativeError(ranks[0].stats, whole.stats) < 1e-5)
    }

    /// Without a bound group (or with a one-rank group), batch norm is the plain per-batch operation.
    @Test func oneRankGroupChangesNothing() {
        var g = SeededGenerator(seed: 3)
        let x = Tensor(shape: [4, 2, 3, 3], scalars: g.normals(72))
        func run() -> [Float] {
            x.batchNorm(runningMean: .zeros([2]), runningVariance: .ones([2]), weight: nil, bias: nil, mode: .training).scalars
        }
        let plain = run()
        let bound = BatchNormSynchronization.$group.withValue(.singleProcess()) { run() }
        #expect(plain == bound)
    }

    /// Gradients are averaged over the ranks in buckets; a parameter keeps no gradient only when no rank had one,
    /// and a rank without one counts zeros.
    @Test func gradientAveragingAveragesOverRanks() {
        let results = ThreadCommunicator.run(ranks: 2) { communicator in
            let rank = Float(communicator.rank)
            let both = Tensor(shape: [5], scalars: [1, 2, 3, 4, 5], requiresGrad: true)
            let onlyRankOne = Tensor(shape: [2], scalars: [0, 0], requiresGrad: true)
            let none = Tensor(shape: [3], scalars: [0, 0, 0], requiresGrad: true)
            both.grad = Tensor(shape: [5], scalars: [1, 2, 3, 4, 5].map { $0 * (rank + 1) })
            if communicator.rank == 1 { onlyRankOne.grad = Tensor(shape: [2], scalars: [4, -6]) }
            GradientAveraging(group: DataParallelGroup(communicator), bucketSize: 3).average([both, onlyRankOne, none])
            return (both.grad?.scalars, onlyRankOne.grad?.scalars, none.grad == nil)
        }
        for (both, onlyRankOne, noneIsNil) in results {
            #expect(both == [1.5, 3, 4.5, 6, 7.5])
            #expect(onlyRankOne == [2, -3])
            #expect(noneIsNil)
        }
    }

    /// An optimizer with averaging set steps every rank identically from different local gradients.
    @Test func optimizerStepsAverageTheGradients() {
        let results = ThreadCommunicator.run(ranks: 2) { communicator in
            let p = Tensor(shape: [2], scalars: [1, 1], requiresGrad: true)
            let sgd = SGD(parameters: [p], learningRate: 0.5)
            sgd.gradientAveraging = GradientAveraging(group: DataParallelGroup(communicator))
            p.grad = Tensor(shape: [2], scalars: communicator.rank == 0 ? [2, 0] : [0, 4])
            sgd.step()
            return p.scalars
        }
        #expect(results == [[0.5, 0], [0.5, 0]])
    }

    /// Broadcasting makes every rank's module equal to rank 0's; `all` is true only when every rank agrees.
    @Test func broadcastAndAgreement() {
        let results = ThreadCommunicator.run(ranks: 3) { communicator in
            let group = DataParallelGroup(communicator)
            var generator = SeededGenerator(seed: UInt64(10 + communicator.rank))
            let layer = Linear(inputFeatures: 3, outputFeatures: 2, generator: &generator)
            group.broadcastTensors(of: layer)
            let agree = group.all(true), disagree = group.all(communicator.rank != 2)
            return (layer.namedTensors().flatMap { $0.tensor.scalars }, agree, disagree)
        }
        var generator = SeededGenerator(seed: 10)
        let rankZero = Linear(inputFeatures: 3, outputFeatures: 2, generator: &generator).namedTensors().flatMap { $0.tensor.scalars }
        for (values, agree, disagree) in results {
            #expect(values == rankZero)
            #expect(agree && !disagree)
        }
    }

    /// Shards partition the batch in rank order, and one process keeps everything.
    @Test func shardsPartitionTheBatch() {
        let batch = Tensor(shape: [6, 2], scalars: (0..<12).map(Float.init))
        let shards = (0..<3).map { BatchShard(rank: $0, count: 3) }
        #expect(shards.flatMap { $0.local(batch).scalars } == batch.scalars)
        #expect(shards.map { $0.local(batch).shape } == [[2, 2], [2, 2], [2, 2]])
        #expect(shards.flatMap { $0.local(Array(0..<6)) } == Array(0..<6))
        #expect(BatchShard.whole.local(batch) === batch)
    }

    /// The `Cpus_allowed` mask of /proc/<pid>/status counts the cores a process may use.
    @Test func allowedProcessorsFromTheStatusMask() {
        #expect(ComputeThreads.allowedProcessorCount(status: "Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n") == 2)
        #expect(ComputeThreads.allowedProcessorCount(status: "Cpus_allowed:\tffffffff,00000001\n") == 33)
        #expect(ComputeThreads.allowedProcessorCount(status: "Name:\tx\n") == nil)
        #expect(ComputeThreads.allowedProcessorCount(status: "Cpus_allowed:\tzz\n") == nil)
        #expect(ComputeThreads.perProcess(localProcesses: 1_000) == 1)
    }
}
