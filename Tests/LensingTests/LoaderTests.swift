import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct LoaderTests {
    private func dataset(count: Int = 30) throws -> DeepLenseDataset {
        let dir = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSyntheticDataset(dir, count: count, height: 3, width: 3)
        return try DeepLenseDataset(directory: dir, split: .train)
    }

    private func collect(_ loader: BatchLoader, epoch: Int) -> [LabeledBatch] { Array(loader.epoch(epoch)) }

    @Test func everyImageOncePerEpochWithMatchingLabelsAndPixels() throws {
        let set = try dataset(count: 23)
        let loader = BatchLoader(dataset: set, batchSize: 5, seed: 7)
        let batches = collect(loader, epoch: 0)
        #expect(batches.count == 5 && loader.batchCount == 5)
        #expect(batches.map(\.images.shape[0]) == [5, 5, 5, 5, 3])
        let visited = batches.flatMap(\.indices)
        #expect(visited.sorted() == Array(0..<23))
        #expect(visited != Array(0..<23), "shuffled")
        for batch in batches {
            #expect(batch.labels == batch.indices.map { $0 % 3 })
            for (k, i) in batch.indices.enumerated() { #expect(batch.images.scalars[k * 9] == Float(i)) }
        }
        #expect(BatchLoader(dataset: set, batchSize: 5, dropLast: true).batchCount == 4)
        #expect(collect(BatchLoader(dataset: set, batchSize: 5, order: .sequential), epoch: 3).flatMap(\.indices) == Array(0..<23))
    }

    @Test func deterministicForSeedAndEpochAndIndependentOfPrefetch() throws {
        let set = try dataset()
        let augment = AugmentationPipeline([RandomHorizontalFlip(), GaussianNoise(standardDeviation: 0.1)])
        let a = BatchLoader(dataset: set, batchSize: 4, seed: 11, augmentation: augment, prefetch: true)
        let b = BatchLoader(dataset: set, batchSize: 4, seed: 11, augmentation: augment, prefetch: false)
        let c = BatchLoader(dataset: set, batchSize: 4, seed: 12, augmentation: augment)
        let epochA = collect(a, epoch: 2), epochB = collect(b, epoch: 2)
        #expect(epochA.map(\.indices) == epochB.map(\.indices))
        #expect(epochA.map(\.images.scalars) == epochB.map(\.images.scalars))
        #expect(a.batch(epoch: 2, index: 3).images.scalars == epochA[3].images.scalars)
        #expect(collect(a, epoch: 3).map(\.indices) != epochA.map(\.indices), "epochs differ")
        #expect(collect(c, epoch: 2).map(\.indices) != epochA.map(\.indices), "seeds differ")
    }

    @Test func streamRunsAcrossEpochs() throws {
        let set = try dataset(count: 10)
        let loader = BatchLoader(dataset: set, batchSize: 4, seed: 5, dropLast: true)
        let stream = loader.stream(startingAt: 1)
        let taken = (0..<5).map { _ in stream.next()! }
        #expect(stream.epoch == 3)
        let expected = collect(loader, epoch: 1) + collect(loader, epoch: 2) + collect(loader, epoch: 3)
        #expect(taken.map(\.indices) == expected.prefix(5).map(\.indices))
    }

    @Test func classBalancedBatchesHoldEachClassEqually() throws {
        let set = try dataset(count: 30)
        let loader = BatchLoader(dataset: set, batchSize: 6, order: .classBalanced, seed: 3)
        let batches = collect(loader, epoch: 0)
        #expect(batches.flatMap(\.indices).sorted() == Array(0..<30))
        for batch in batches {
            var counts = [0, 0, 0]
            for label in batch.labels { counts[label] += 1 }
            #expect(counts == [2, 2, 2])
        }
        let shuffled = collect(BatchLoader(dataset: set, batchSize: 6, order: .shuffled, seed: 3), epoch: 0)
        var total = [0, 0, 0]
        for label in shuffled.flatMap(\.labels) { total[label] += 1 }
        #expect(total == [10, 10, 10])
    }

    @Test func normalizationIsAppliedPerBatch() throws {
        let set = try dataset(count: 6)
        let loader = BatchLoader(dataset: set, batchSize: 3, order: .sequential, normalization: .perImageMinMax)
        let batch = loader.batch(epoch: 0, index: 1)
        for k in 0..<3 {
            let image = batch.images.scalars[(k * 9)..<((k + 1) * 9)]
            #expect(image.min() == 0 && image.max() == 1)
        }
        let standardized = BatchLoader(dataset: set, batchSize: 6, order: .sequential,
                                       normalization: Normalization.datasetStandardization(of: set)).batch(epoch: 0, index: 0)
        let values = standardized.images.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-5)
    }
}
