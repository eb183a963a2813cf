#if MPI
import Backbones
import Core
import DomainAdaptation
import Foundation
import MPIBackend

/// `Bench --data-parallel [--iterations N] [--threads T]`, under `mpirun -np K` (or alone: one rank): one
/// source-only ResNet18 step on a global batch of 32 images of 150x150, split over the ranks, as `deeplense train
/// --distributed` takes it (gradient averaging, synchronised batch norm). Rank 0 prints one JSON line: ranks,
/// threads per rank, median seconds per step, median seconds per step in collectives (gradient allreduce of the
/// 11.2 M parameters, and batch-norm statistics), source images per second. Every rank runs the same fixed number
/// of steps (a time budget would let the ranks disagree on the number of collectives).
func runDataParallelBench(arguments: [String]) -> Never {
    func value(_ flag: String, _ fallback: Int) -> Int {
        guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count, let v = Int(arguments[i + 1]), v > 0 else { return fallback }
        return v
    }
    let mpi: MPICommunicator
    do { mpi = try MPICommunicator() } catch {
        FileHandle.standardError.write(Data("Bench: \(error)\n".utf8))
        exit(1)
    }
    ComputeThreads.count = value("--threads", ComputeThreads.perProcess(localProcesses: mpi.localSize))
    let iterations = value("--iterations", 10), warmup = 2, batch = 32, side = 150
    let group = DataParallelGroup(mpi)
    let method = SourceOnly(encoder: ResNet18(seed: 1), classCount: 3, seed: 2)
    let averaging = GradientAveraging(group: group)
    method.optimizer.gradientAveraging = averaging
    method.prepare(totalIterations: warmup + iterations, targetImages: InMemoryImages(pixels: [Float](repeating: 0, count: side * side),
                   labels: [0], imageShape: [1, side, side], classCount: 3), batchSize: batch)
    let images = benchTensor([batch, 1, side, side], seed: 5)
    let labels = (0..<batch).map { $0 % 3 }
    let target = TargetBatch(images: images, indices: Array(0..<batch))
    var generator = SeededGenerator(seed: 9)
    var stepSeconds: [Double] = [], collectiveSeconds: [Double] = [], gradientSeconds: [Double] = []
    for iteration in 0..<(warmup + iterations) {
        group.resetTiming()
        let gradientBefore = averaging.seconds
        let context = IterationContext(epoch: 0, iteration: iteration, iterationsPerEpoch: warmup + iterations,
                                       totalIterations: warmup + iterations, shard: BatchShard(rank: mpi.rank, count: mpi.size))
        let start = monotonicSeconds()
        _ = BatchNormSynchronization.$group.withValue(group) {
            method.step(source: (images, labels), target: target, context: context, generator: &generator)
        }
        if iteration >= warmup {
            stepSeconds.append(monotonicSeconds() - start)
            collectiveSeconds.append(group.communicationSeconds)
            gradientSeconds.append(averaging.seconds - gradientBefore)
        }
    }
    func median(_ values: [Double]) -> Double { let s = values.sorted(); return s[s.count / 2] }
    if mpi.rank == 0 {
        let step = median(stepSeconds)
        print(String(format: "{\"case\": \"data-parallel-step-resnet18-150\", \"ranks\": %d, \"threads_per_rank\": %d, "
                        + "\"batch\": %d, \"steps\": %d, \"step_s\": %.4f, \"collectives_s\": %.4f, \"gradient_allreduce_s\": %.4f, "
                        + "\"images_per_s\": %.1f}",
                     mpi.size, ComputeThreads.count, batch, iterations, step, median(collectiveSeconds), median(gradientSeconds),
                     Double(batch) / step))
    }
    mpi.finalize()
    exit(0)
}
#endif
