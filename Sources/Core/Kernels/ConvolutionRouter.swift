import Foundation

/// Chooses which kernel computes each pass of a convolution, and runs it.
///
/// `kernels` lists every `ConvolutionKernel` in priority order. Automatic routing gives a pass to the first kernel
/// that supports it and prefers it on `cpu`; `Im2ColConvolution`, last, takes everything. A forced algorithm (the
/// `algorithm` argument, or `DEEPLENSE_CONV_ALGORITHM=im2col|fft|taps|direct` when the argument is `automatic`) gives
/// a pass to the first kernel of its family that supports it, and to `Im2ColConvolution` where none does. Each
/// gradient is routed on its own; a kernel that receives both computes them together.
///
/// What automatic routing chooses (each kernel's `prefers` holds the measured thresholds):
/// - `FFTConvolution`: stride-1 kernels of 5x5 and larger where its cost model estimates at least 2x less time;
/// - `PointwiseConvolution`: forwards of strided or padded 1x1 kernels over at least 16 input channels (AVX-512
///   native builds);
/// - `FewChannelWeightGradient`: weight gradients of stems (at most 4 input channels; AVX-512 native builds);
/// - `DirectConvolution`: forwards and stride-1 input gradients of kernels larger than 1x1 over at least 16 channels,
///   weight gradients over at least 32 output channels on maps above 4x4 (AVX-512 native builds);
/// - `TapConvolution`: output maps of at most 25 pixels;
/// - `Im2ColConvolution`: the rest.
package struct ConvolutionRouter: Sendable {
    /// Every kernel, in priority order.
    static let kernels: [any ConvolutionKernel.Type] = [
        FFTConvolution.self,
        PointwiseConvolution.self,
        FewChannelWeightGradient.self,
        DirectConvolution.self,
        TapConvolution.self,
        Im2ColConvolution.self,
    ]

    /// The CPU whose preferences automatic routing follows.
    package let cpu: CPUFeatures
    /// The family every `automatic` request is forced to (`DEEPLENSE_CONV_ALGORITHM`), if any.
    package let forcedFamily: ConvolutionFamily?

    package init(cpu: CPUFeatures, forcedFamily: ConvolutionFamily? = nil) {
        self.cpu = cpu
        self.forcedFamily = forcedFamily
    }

    /// Called with the geometry of every convolution forward in the current task (tests list a network's shapes).
    @TaskLocal package static var forwardObserver: (@Sendable (ConvGeometry) -> Void)?

    /// The router of this machine, binary and environment (read once).
    package static let host = ConvolutionRouter(cpu: .host, forcedFamily: ConvolutionOverrides.environment.algorithm)

    /// The kernel that computes `pass` of `g` under `algorithm`.
    package func kernel(for pass: ConvolutionPass, _ g: ConvGeometry,
                        algorithm: ConvAlgorithm = .automatic) -> any ConvolutionKernel.Type {
        if case .fft = algorithm {
            precondition(FFTConvolution.supportsGeometry(g), "FFT convolution needs stride 1 and dilation 1, got \(g)")
        }
        if let family = algorithm.family ?? forcedFamily {
            return Self.kernels.first { $0.family == family && $0.supports(pass, g) } ?? Im2ColConvolution.self
        }
        return Self.kernels.first { $0.supports(pass, g) && $0.prefers(pass, g, on: cpu) } ?? Im2ColConvolution.self
    }

    /// `output = conv(input, weight) + bias` for `input` `[N, Cin, H, W]`, `weight` `[Cout, Cin, kh, kw]`, `bias`
    /// `[Cout]`; `output` `[N, Cout, Ho, Wo]` may be uninitialised, it is fully written.
    package func forward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        geometry g: ConvGeometry, output: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm = .automatic
    ) {
        Self.forwardObserver?(g)
        kernel(for: .forward, g, algorithm: algorithm)
            .forward(input: input, weight: weight, geometry: g, output: output, algorithm: algorithm)
        if let bias {
            let cout = g.outputChannels, plane = g.outputPlane
            parallelFor(g.batch * cout, minimumChunk: 8) { item in
                let b = bias[item % cout]
                let p = output + item * plane
                for i in 0..<plane { p[i] += b }
            }
        }
    }

    /// Gradients of `sum(gradOutput * conv(input, weight))`. Each non-nil destination is overwritten:
    /// `gradInput` `[N, Cin, H, W]`, `gradWeight` `[Cout, Cin, kh, kw]`, `gradBias` `[Cout]`.
    package func backward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
        geometry g: ConvGeometry,
        gradInput: UnsafeMutablePointer<Float>?, gradWeight: UnsafeMutablePointer<Float>?,
        gradBias: UnsafeMutablePointer<Float>?, algorithm: ConvAlgorithm = .automatic
    ) {
        if let gradBias {
            Im2ColConvolution.sumPlanes(gradOutput, batch: g.batch, channels: g.outputChannels, plane: g.outputPlane,
                                        into: gradBias)
        }
        guard gradInput != nil || gradWeight != nil else { return }
        if g.batch == 0 {
            gradWeight?.update(repeating: 0, count: g.outputChannels * g.patchSize)
            return
        }
        let inputKernel = gradInput.map { _ in kernel(for: .inputGradient, g, algorithm: algorithm) }
        let weightKernel = gradWeight.map { _ in kernel(for: .weightGradient, g, algorithm: algorithm) }
        if let inputKernel, let weightKernel, ObjectIdentifier(inputKernel) != ObjectIdentifier(weightKernel) {
            weightKernel.backward(input: input, weight: weight, gradOutput: gradOutput, geometry: g, gradInput: nil,
                                  gradWeight: gradWeight, algorithm: algorithm)
            inputKernel.backward(input: input, weight: weight, gradOutput: gradOutput, geometry: g,
                                 gradInput: gradInput, gradWeight: nil, algorithm: algorithm)
        } else {
            (weightKernel ?? inputKernel)!.backward(input: input, weight: weight, gradOutput: gradOutput, geometry: g,
                                                    gradInput: gradInput, gradWeight: gradWeight, algorithm: algorithm)
        }
    }
}

/// The environment variables that steer convolutions, read once per process.
package struct ConvolutionOverrides: Sendable {
    /// `DEEPLENSE_CONV_ALGORITHM=im2col|fft|taps|direct`: the family every automatic convolution is forced to (other
    /// values are ignored).
    package let algorithm: ConvolutionFamily?
    /// `DEEPLENSE_CONV_SCHEDULE=pipelines|shared`: `Im2ColConvolution`'s schedule (for benchmarking the two; values
    /// other than `pipelines` mean `shared`).
    package let schedule: Schedule?

    package init(environment: [String: String]) {
        algorithm = environment["DEEPLENSE_CONV_ALGORITHM"].flatMap(ConvolutionFamily.init(rawValue:))
        schedule = environment["DEEPLENSE_CONV_SCHEDULE"].map { Schedule(rawValue: $0) ?? .shared }
    }

    /// `Im2ColConvolution`'s two schedules.
    package enum Schedule: String, Sendable {
        case pipelines
        case shared
    }

    package static let environment = ConvolutionOverrides(environment: ProcessInfo.processInfo.environment)
}
