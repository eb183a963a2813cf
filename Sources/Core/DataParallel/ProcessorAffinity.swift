import Foundation

extension ComputeThreads {
    /// Compute threads for one of `localProcesses` processes of a data-parallel run on this machine: the cores this
    /// process may run on (an MPI launcher may bind it to fewer than the machine has), shared evenly with the other
    /// processes on the machine, at least 1.
    public static func perProcess(localProcesses: Int) -> Int {
        let machine = ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(allowedProcessorCount() ?? machine, machine / max(1, localProcesses)))
    }

    /// The number of cores the scheduler lets this process use (the `Cpus_allowed` mask of `/proc/self/status`);
    /// nil where that is not readable.
    public static func allowedProcessorCount() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return allowedProcessorCount(status: status)
    }

    /// The bits set in the `Cpus_allowed:` line of a `/proc/<pid>/status` text (hex words separated by commas).
    package static func allowedProcessorCount(status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
        var count = 0
        for character in line.dropFirst("Cpus_allowed:".count) where character != "," && character != " " && character != "\t" {
            guard let digit = character.hexDigitValue else { return nil }
            count += digit.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }
}
