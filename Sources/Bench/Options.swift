import Foundation

/// Command line: `Bench [--filter REGEX] [--json FILE] [--threads T] [--seconds S] [--list]`.
struct BenchOptions {
    var filter: String? = nil
    var jsonPath: String? = nil
    var threads: Int? = nil
    var seconds = 2.0
    var listOnly = false

    static let usage = """
        usage: Bench [--filter REGEX] [--json FILE] [--threads T] [--seconds S] [--list]
          --filter REGEX  run only cases whose name matches (e.g. 'conv-fwd-150')
          --json FILE     also write the results as JSON
          --threads T     compute threads (default: all cores); BLAS stays single-threaded per thread
          --seconds S     timed seconds per case after warm-up (default 2)
          --list          print the case names and exit
        """

    static func parse(_ arguments: [String]) -> BenchOptions {
        var options = BenchOptions()
        var i = 0
        func value() -> String {
            i += 1
            guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--filter": options.filter = value()
            case "--json": options.jsonPath = value()
            case "--threads":
                guard let t = Int(value()), t >= 1 else { fail("--threads needs a positive integer") }
                options.threads = t
            case "--seconds":
                guard let s = Double(value()), s > 0 else { fail("--seconds needs a positive number") }
                options.seconds = s
            case "--list": options.listOnly = true
            case "-h", "--help": print(usage); exit(0)
            default: fail("unknown argument \(arguments[i])")
            }
            i += 1
        }
        return options
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("Bench: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
}
