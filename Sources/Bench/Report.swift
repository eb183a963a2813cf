import Core
import Foundation

/// Console table and the JSON file of the benchmarks:
/// `{"machine": {...}, "cases": [{"name", "median_seconds", "min_seconds", "repeats", "gflops",
/// "images_per_second", "peak_memory_bytes"}]}`, with null for fields that do not apply.
enum BenchReport {
    static func header() -> String {
        pad("case", 40) + lpad("median ms", 11) + lpad("min ms", 10) + lpad("reps", 6) + lpad("GFLOP/s", 9)
            + lpad("img/s", 9) + lpad("peak MiB", 10)
    }

    static func line(_ r: BenchResult) -> String {
        pad(r.name, 40) + lpad(String(format: "%.3f", r.median * 1e3), 11) + lpad(String(format: "%.3f", r.minimum * 1e3), 10)
            + lpad("\(r.seconds.count)", 6) + lpad(r.gflops.map { String(format: "%.1f", $0) } ?? "-", 9)
            + lpad(r.imagesPerSecond.map { String(format: "%.1f", $0) } ?? "-", 9)
            + lpad(r.peakMemoryBytes.map { String(format: "%.0f", Double($0) / 1048576) } ?? "-", 10)
    }

    static func machine() -> [String: Any] {
        var cpu = "unknown"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let value = line.split(separator: ":", maxSplits: 1).last {
            cpu = value.trimmingCharacters(in: .whitespaces)
        }
        let env = ProcessInfo.processInfo.environment
        return [
            "hostname": ProcessInfo.processInfo.hostName,
            "cpu": cpu,
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "threads": ComputeThreads.count,
            "memory_bytes": Int(ProcessInfo.processInfo.physicalMemory),
            "openblas_coretype": env["OPENBLAS_CORETYPE"] ?? NSNull(),
            "openblas_core": OpenBLASCore.name,
            "date": ISO8601DateFormatter().string(from: Date()),
        ]
    }

    static func writeJSON(_ results: [BenchResult], to path: String) throws {
        func value(_ x: Double?) -> Any { x.map { $0 as Any } ?? NSNull() }
        let cases: [[String: Any]] = results.map { r in
            [
                "name": r.name,
                "median_seconds": r.median,
                "min_seconds": r.minimum,
                "repeats": r.seconds.count,
                "gflops": value(r.gflops),
                "images_per_second": value(r.imagesPerSecond),
                "peak_memory_bytes": r.peakMemoryBytes.map { $0 as Any } ?? NSNull(),
            ]
        }
        let document: [String: Any] = ["machine": machine(), "cases": cases]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    private static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    private static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
}
