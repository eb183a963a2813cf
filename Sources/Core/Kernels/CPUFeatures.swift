import Foundation

/// What the convolution router and OpenBLAS set-up need to know about the CPU and how this binary was compiled.
///
/// `host` is detected once (`/proc/cpuinfo` flags and the `DEEPLENSE_NATIVE` compile flag); `avx512Native` and
/// `avx2` describe the two kinds of development machines, so tests can check what either would choose on any build.
package struct CPUFeatures: Hashable, Sendable, CustomStringConvertible {
    /// The CPU reports the AVX-512 subsets OpenBLAS's SkylakeX kernels use (F, CD, BW, DQ, VL).
    package var hasAVX512: Bool
    /// The binary was compiled for the host CPU (`-target-cpu native -D DEEPLENSE_NATIVE`, the Makefile's release
    /// builds); portable builds leave 16-lane vectors to the x86-64 baseline.
    package var compiledForHost: Bool

    package init(hasAVX512: Bool, compiledForHost: Bool) {
        self.hasAVX512 = hasAVX512
        self.compiledForHost = compiledForHost
    }

    /// 16-lane float vectors are single registers: the register-blocked kernels (`DirectConvolution`,
    /// `PointwiseConvolution`, the direct weight gradients) are fast only then.
    package var hasWideVectors: Bool { hasAVX512 && compiledForHost }

    /// This machine and binary.
    package static let host = CPUFeatures(
        hasAVX512: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).map { reportsAVX512(cpuinfo: $0) } ?? false,
        compiledForHost: isNativeBuild)

    /// A native build on an AVX-512 CPU (AMD Zen 4, Intel Skylake-SP and later).
    package static let avx512Native = CPUFeatures(hasAVX512: true, compiledForHost: true)
    /// A native build on an AVX2-only CPU (AMD Zen 3).
    package static let avx2 = CPUFeatures(hasAVX512: false, compiledForHost: true)

    private static var isNativeBuild: Bool {
        #if DEEPLENSE_NATIVE
        return true
        #else
        return false
        #endif
    }

    /// Whether the first `flags` line of a `/proc/cpuinfo` text lists every AVX-512 subset of `hasAVX512`.
    package static func reportsAVX512(cpuinfo: String) -> Bool {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(line.split(separator: " ").map(String.init))
        return ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }

    package var description: String {
        (hasAVX512 ? "AVX-512" : "no AVX-512") + (compiledForHost ? ", native build" : ", portable build")
    }
}
