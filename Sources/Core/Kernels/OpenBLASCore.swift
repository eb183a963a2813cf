import CBLAS
import Foundation

/// Which OpenBLAS kernel family runs our GEMMs, and a way to pick the AVX-512 one.
///
/// OpenBLAS (dynamic-arch builds) chooses its kernels once, when the library loads, from the CPU or from
/// `OPENBLAS_CORETYPE`. On machines where that variable pins `Haswell` (AVX2), an AVX-512 CPU runs sgemm at
/// half its width: measured here on 2 cores, 120 GFLOP/s per core with `Haswell` against 227 with `SkylakeX`,
/// which is what PyTorch's oneDNN convolutions reach. Since the choice cannot be changed after loading,
/// `preferAVX512Kernels()` re-executes the program with `OPENBLAS_CORETYPE=SkylakeX`.
public enum OpenBLASCore {
    /// The kernel family OpenBLAS is using, e.g. "Haswell" or "SkylakeX".
    public static var name: String { String(cString: openblas_get_corename()) }

    /// Call first thing in `main`: if the CPU supports AVX-512 but OpenBLAS loaded a narrower kernel family,
    /// re-executes this program (same arguments) with `OPENBLAS_CORETYPE=SkylakeX`; otherwise returns.
    /// Set `DEEPLENSE_KEEP_BLAS_CORE=1` to keep the loaded kernels. Never re-executes more than once.
    public static func preferAVX512Kernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["DEEPLENSE_KEEP_BLAS_CORE"] == nil, env["DEEPLENSE_BLAS_REEXEC"] == nil,
              CPUFeatures.host.hasAVX512, !["SkylakeX", "Cooperlake", "SapphireRapids"].contains(name) else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        setenv("DEEPLENSE_BLAS_REEXEC", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the kernels we have.
    }
}
