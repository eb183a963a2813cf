import Core
import Foundation

// Bench: the project's micro-benchmarks.
//
// A small harness of our own rather than google/swift-benchmark or ordo-one/benchmark: it adds no dependency
// to the package, and it reports what those do not out of the box: images/s for whole training steps and
// the peak resident memory of each case (VmHWM, reset per case through /proc/self/clear_refs), in the JSON
// layout the PyTorch reference script writes too, so ratios are one join on the case name.
//
// Case names are stable identifiers, lowercase words joined by '-':
//   sgemm-<n>                                      square GEMM
//   conv-{fwd|bwd}-<net input>-<stage>-<cin>x<cout>-k<k>s<s>   ResNet18 conv at batch 32
//   batchnorm-{fwd|bwd}-<net input>-<stage>-<c>    training-mode batch norm at batch 32
//   <backbone>-train-<side>, <method>-step-<backbone>-64, simulate-<side>   whole steps (NetworkCases, MethodCases)
// On AVX-512 CPUs the Bench re-executes itself with OPENBLAS_CORETYPE=SkylakeX (see OpenBLASCore);
// DEEPLENSE_KEEP_BLAS_CORE=1 keeps the kernels the environment chose.
// To add cases, define a `[BenchCase]` in your own file and append it to `BenchRegistry.all` below.

enum BenchRegistry {
    static var all: [BenchCase] { gemmCases + convCases + batchNormCases + equivariantCases + networkCases + methodCases }
}

OpenBLASCore.preferAVX512Kernels()
AllocatorTuning.apply()
if CommandLine.arguments.contains("--data-parallel") {
    #if MPI
    runDataParallelBench(arguments: CommandLine.arguments)
    #else
    FileHandle.standardError.write(Data("Bench: --data-parallel needs a build with the MPI trait (swift build --traits MPI)\n".utf8))
    exit(2)
    #endif
}
let options = BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
if let threads = options.threads { ComputeThreads.count = threads }
var cases = BenchRegistry.all
if let pattern = options.filter {
    guard let regex = try? NSRegularExpression(pattern: pattern) else {
        FileHandle.standardError.write(Data("Bench: invalid --filter regex \(pattern)\n".utf8))
        exit(2)
    }
    cases = cases.filter { regex.firstMatch(in: $0.name, range: NSRange($0.name.startIndex..., in: $0.name)) != nil }
}
if options.listOnly {
    for c in cases { print(c.name) }
    exit(0)
}
print("threads: \(ComputeThreads.count), OpenBLAS kernels: \(OpenBLASCore.name), budget: \(options.seconds) s per case")
print(BenchReport.header())
var results: [BenchResult] = []
for benchCase in cases {
    let result = run(benchCase, budget: BenchBudget(seconds: options.seconds))
    results.append(result)
    print(BenchReport.line(result))
}
if let path = options.jsonPath {
    do { try BenchReport.writeJSON(results, to: path) } catch {
        FileHandle.standardError.write(Data("Bench: cannot write \(path): \(error)\n".utf8))
        exit(1)
    }
}
