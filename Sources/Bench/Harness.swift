import Core
import Foundation

/// A micro-benchmark: `prepare` builds inputs once (untimed) and returns the body that is timed.
///
/// Other engineers add cases in their own file as a `[BenchCase]` array and list that array once in
/// `BenchRegistry.all` (main.swift). Names are stable identifiers used by `--filter`, the JSON output and the
/// PyTorch reference script (`bench/reference/torch_bench.py`); never rename a case silently.
struct BenchCase {
    /// Stable identifier, lowercase words joined by `-` (see main.swift for the naming scheme).
    let name: String
    /// Floating-point operations of one run of the body (nil when not meaningful).
    var flops: Double? = nil
    /// Images processed by one run of the body, for images/s (nil when not meaningful).
    var images: Int? = nil
    /// Whether to report the peak resident memory while the case runs (whole steps).
    var reportsPeakMemory = false
    /// Builds the inputs and returns the body to time.
    let prepare: () -> () -> Void
}

/// Timings of one case.
struct BenchResult {
    let name: String
    let seconds: [Double]
    let flops: Double?
    let images: Int?
    let peakMemoryBytes: Int?

    var median: Double {
        let s = seconds.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var minimum: Double { seconds.min() ?? .nan }
    var gflops: Double? { flops.map { $0 / median / 1e9 } }
    var imagesPerSecond: Double? { images.map { Double($0) / median } }
}

/// How long to measure each case.
struct BenchBudget {
    /// Seconds of timed repeats per case (after warm-up); at least `minimumRepeats` run regardless.
    var seconds = 2.0
    var minimumRepeats = 3
    var maximumRepeats = 1000
    /// Untimed runs before measuring (caches, scratch buffers, page faults of first allocations).
    var warmupRuns = 1
}

/// A monotonic clock in seconds.
@inline(__always)
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Peak resident memory of this process: `VmHWM` from /proc/self/status (Linux), else getrusage's maxrss.
enum PeakMemory {
    /// Resets the kernel's high-water mark to the current RSS (Linux `clear_refs` value 5); false if unsupported.
    @discardableResult
    static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }

    /// Peak resident set size in bytes since start or the last `reset()`.
    static func bytes() -> Int? {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
            }
        }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
        return Int(usage.ru_maxrss) * 1024
    }
}

/// Runs one case: warm-up, then repeats until the time budget is spent.
func run(_ benchCase: BenchCase, budget: BenchBudget) -> BenchResult {
    if benchCase.reportsPeakMemory { ScratchPool.purge(); PeakMemory.reset() }
    let body = benchCase.prepare()
    for _ in 0..<budget.warmupRuns { body() }
    var times: [Double] = []
    let start = monotonicSeconds()
    while times.count < budget.maximumRepeats
        && (times.count < budget.minimumRepeats || monotonicSeconds() - start < budget.seconds) {
        let t0 = monotonicSeconds()
        body()
        times.append(monotonicSeconds() - t0)
    }
    return BenchResult(name: benchCase.name, seconds: times, flops: benchCase.flops, images: benchCase.images,
                       peakMemoryBytes: benchCase.reportsPeakMemory ? PeakMemory.bytes() : nil)
}

/// Deterministic inputs in [-1, 1) (the values do not affect timing; fixed so runs are comparable).
func benchTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let n = shape.reduce(1, *)
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n { values[i] = Float(generator.next() >> 40) / Float(1 << 23) - 1 }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
}
