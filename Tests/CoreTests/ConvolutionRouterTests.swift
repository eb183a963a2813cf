@testable import Core
import Foundation
import Testing
import TestSupport

@Suite struct ConvolutionRouterTests {
    static func geometry(_ n: Int, _ cin: Int, _ cout: Int, _ size: Int, _ k: Int, stride: Int = 1) -> ConvGeometry {
        ConvGeometry(batch: n, inputChannels: cin, height: size, width: size, outputChannels: cout, kernelHeight: k,
                     kernelWidth: k, stride: stride, padding: k / 2)
    }

    /// `(y, dx, dw)` of `sum(dy * conv(x, w))` through `router`.
    static func run(_ router: ConvolutionRouter, _ g: ConvGeometry, algorithm: ConvAlgorithm = .automatic)
        -> (y: [Float], dx: [Float], dw: [Float]) {
        let x = testTensor([g.batch, g.inputChannels, g.height, g.width], seed: 301, requiresGrad: false)
        let w = testTensor([g.outputChannels, g.inputChannels, g.kernelHeight, g.kernelWidth], seed: 302, requiresGrad: false)
        let dy = testTensor([g.batch, g.outputChannels, g.outputHeight, g.outputWidth], seed: 303, requiresGrad: false)
        var y = [Float](repeating: .nan, count: dy.count)
        var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: w.count)
        x.scalars.withUnsafeBufferPointer { xp in
            w.scalars.withUnsafeBufferPointer { wp in
                dy.scalars.withUnsafeBufferPointer { dyp in
                    y.withUnsafeMutableBufferPointer {
                        router.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, geometry: g,
                                       output: $0.baseAddress!, algorithm: algorithm)
                    }
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dw.withUnsafeMutableBufferPointer { dwp in
                            router.backward(input: xp.baseAddress!, weight: wp.baseAddress!, gradOutput: dyp.baseAddress!,
                                            geometry: g, gradInput: dxp.baseAddress, gradWeight: dwp.baseAddress,
                                            gradBias: nil, algorithm: algorithm)
                        }
                    }
                }
            }
        }
        return (y, dx, dw)
    }

    /// Automatic routing for an AVX-512 machine splits the passes of one convolution over several kernels (the
    /// register-blocked kernels run on any x86-64 CPU with AVX-512, only slower in portable builds); the results
    /// match forced im2col. Float32 sums of at most ~1,200 products: 1e-5 relative.
    @Test(arguments: [
        // (n, cin, cout, size, k, stride): the kernels of forward / input gradient / weight gradient
        (2, 16, 32, 8, 3, 2),  // Direct / Tap / Direct
        (2, 16, 32, 12, 1, 2),  // Pointwise / Im2Col / Im2Col
        (2, 1, 8, 32, 7, 2),  // Im2Col / Im2Col / FewChannelWeightGradient
        (2, 16, 32, 6, 3, 1),  // Direct / Direct / Direct, sharing a channels-last dY
        (2, 16, 24, 6, 3, 1),  // the same without the shared copy (24 output channels)
    ])
    func splitRoutingMatchesIm2col(_ c: (Int, Int, Int, Int, Int, Int)) {
        let g = Self.geometry(c.0, c.1, c.2, c.3, c.4, stride: c.5)
        let router = ConvolutionRouter(cpu: .avx512Native)
        let kernels = ConvolutionPass.allCases.map { router.kernel(for: $0, g).name }
        #expect(Set(kernels).count > 1 || kernels[0] == "DirectConvolution", "\(kernels)")
        let routed = Self.run(router, g), reference = Self.run(router, g, algorithm: .im2col)
        #expect(relativeError(routed.y, reference.y) < 1e-5, "forward \(kernels)")
        #expect(relativeError(routed.dx, reference.dx) < 1e-5, "input gradient \(kernels)")
        #expect(relativeError(routed.dw, reference.dw) < 1e-5, "weight gradient \(kernels)")
    }

    /// Kernels earlier in the list win: a wide 5x5 stride-1 layer is preferred by both `FFTConvolution` and
    /// `DirectConvolution` on AVX-512 and goes to the FFTs.
    @Test func priorityOrderDecidesBetweenPreferringKernels() {
        let g = Self.geometry(32, 128, 128, 64, 5)
        #expect(DirectConvolution.prefers(.forward, g, on: .avx512Native))
        #expect(ConvolutionRouter(cpu: .avx512Native).kernel(for: .forward, g) == FFTConvolution.self)
        #expect(ConvolutionRouter.kernels.last == Im2ColConvolution.self)
    }

    /// A forced family runs its first kernel that supports the pass and im2col elsewhere; an explicit algorithm
    /// argument beats the environment's family.
    @Test func forcedFamilies() {
        let strided = Self.geometry(4, 8, 8, 16, 3, stride: 2), pointwise = Self.geometry(4, 8, 8, 16, 1, stride: 2)
        let stem = Self.geometry(4, 1, 8, 32, 7, stride: 2)
        func names(_ router: ConvolutionRouter, _ g: ConvGeometry, _ algorithm: ConvAlgorithm = .automatic) -> [String] {
            ConvolutionPass.allCases.map { router.kernel(for: $0, g, algorithm: algorithm).name }
        }
        let direct = ConvolutionRouter(cpu: .avx2, forcedFamily: .direct)
        #expect(names(direct, strided) == ["DirectConvolution", "Im2ColConvolution", "DirectConvolution"])
        #expect(names(direct, pointwise) == ["PointwiseConvolution", "Im2ColConvolution", "DirectConvolution"])
        #expect(names(direct, stem) == ["DirectConvolution", "Im2ColConvolution", "FewChannelWeightGradient"])
        #expect(names(ConvolutionRouter(cpu: .avx2, forcedFamily: .taps), strided) == Array(repeating: "TapConvolution", count: 3))
        #expect(names(ConvolutionRouter(cpu: .avx2, forcedFamily: .fft), strided) == Array(repeating: "Im2ColConvolution", count: 3))
        #expect(names(ConvolutionRouter(cpu: .avx2, forcedFamily: .fft), Self.geometry(4, 8, 8, 16, 3))
                    == Array(repeating: "FFTConvolution", count: 3))
        #expect(names(direct, strided, .im2col) == Array(repeating: "Im2ColConvolution", count: 3))
        #expect(names(ConvolutionRouter(cpu: .avx2), strided, .taps) == Array(repeating: "TapConvolution", count: 3))
    }

    /// `DEEPLENSE_CONV_ALGORITHM` names a family (other values leave routing automatic); `DEEPLENSE_CONV_SCHEDULE`
    /// picks an im2col schedule (values other than `pipelines` mean `shared`).
    @Test func overridesFromTheEnvironment() {
        let set = ConvolutionOverrides(environment: ["DEEPLENSE_CONV_ALGORITHM": "taps", "DEEPLENSE_CONV_SCHEDULE": "pipelines"])
        #expect(set.algorithm == .taps && set.schedule == .pipelines)
        let odd = ConvolutionOverrides(environment: ["DEEPLENSE_CONV_ALGORITHM": "winograd", "DEEPLENSE_CONV_SCHEDULE": "x"])
        #expect(odd.algorithm == nil && odd.schedule == .shared)
        let none = ConvolutionOverrides(environment: [:])
        #expect(none.algorithm == nil && none.schedule == nil)
    }
}

@Suite struct CPUFeaturesTests {
    /// The five AVX-512 subsets must all be listed on the `flags` line; wide vectors also need a native build.
    @Test func detection() {
        let zen4 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl\n"
        let zen3 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"
        #expect(CPUFeatures.reportsAVX512(cpuinfo: zen4))
        #expect(!CPUFeatures.reportsAVX512(cpuinfo: zen3))
        #expect(!CPUFeatures.reportsAVX512(cpuinfo: zen4.replacingOccurrences(of: " avx512vl", with: "")))
        #expect(!CPUFeatures.reportsAVX512(cpuinfo: "no flags here"))
        #expect(CPUFeatures.avx512Native.hasWideVectors && !CPUFeatures.avx2.hasWideVectors)
        #expect(!CPUFeatures(hasAVX512: true, compiledForHost: false).hasWideVectors)
    }
}
