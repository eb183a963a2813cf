import ArgumentParser
import Testing
@testable import DeepLenseCLI

/// `train --distributed` on the command line: refused with one line and exit 2 when it cannot run.
@Suite struct DistributedCommandTests {
    private func refusal(_ extra: [String]) -> (text: String, code: Int32)? {
        let arguments = ["train", "--source", "s", "--target", "t", "--epochs", "1", "--out", "o", "--distributed"] + extra
        do {
            _ = try DeepLense.parseAsRoot(arguments)
            return nil
        } catch {
            return DeepLense.report(error)
        }
    }

    @Test func refusedWithoutMPIOrForAMethodThatCannotSplit() throws {
        #if MPI
        let method = try #require(refusal(["--method", "cgdm"]))
        #expect(method.code == 2 && method.text.contains("--distributed trains source-only, adda and adabn; cgdm's losses"))
        #expect(refusal(["--method", "adda"]) == nil)
        #else
        for name in ["source-only", "cgdm"] {
            let noMPI = try #require(refusal(["--method", name]))
            #expect(noMPI.code == 2)
            #expect(noMPI.text.contains("--distributed needs a deeplense built with MPI"))
            #expect(!noMPI.text.contains("\n"))
        }
        #endif
    }
}
