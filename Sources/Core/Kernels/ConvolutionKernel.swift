/// One product of a convolution `y = conv(x, W)`: `y` itself, `dx` or `dW` (from `dy`).
package enum ConvolutionPass: String, CaseIterable, Sendable {
    case forward
    case inputGradient
    case weightGradient
}

/// The algorithm families a caller or `DEEPLENSE_CONV_ALGORITHM` can force (the environment spells them by their raw
/// values).
package enum ConvolutionFamily: String, CaseIterable, Sendable {
    /// im2col + GEMM (`Im2ColConvolution`): every geometry and pass.
    case im2col
    /// Tiled FFTs (`FFTConvolution`): stride 1, dilation 1.
    case fft
    /// One GEMM per kernel tap (`TapConvolution`).
    case taps
    /// The register-blocked kernels on channels-last copies (`PointwiseConvolution`, `DirectConvolution`,
    /// `FewChannelWeightGradient`).
    case direct
}

/// Which algorithm a convolution runs: `automatic` lets `ConvolutionRouter` choose; the others force a family
/// wherever one of its kernels supports the pass (im2col elsewhere).
package enum ConvAlgorithm: Hashable, Sendable {
    case automatic
    case im2col
    case taps
    case direct
    /// Tiled FFTs with `tileSize x tileSize` transforms (nil: the cost model's choice). Stride 1, dilation 1 only.
    case fft(tileSize: Int?)

    /// The family this algorithm forces; nil for `automatic`.
    package var family: ConvolutionFamily? {
        switch self {
        case .automatic: return nil
        case .im2col: return .im2col
        case .taps: return .taps
        case .direct: return .direct
        case .fft: return .fft
        }
    }
}

/// A convolution algorithm `ConvolutionRouter` can choose: which passes of which geometries it can compute, where it
/// is the better choice, and the computation itself.
///
/// Buffers are NCHW: input `[N, Cin, H, W]`, weight `[Cout, Cin, kh, kw]`, output `[N, Cout, Ho, Wo]`. A new kernel is
/// one type conforming to this protocol plus its line in `ConvolutionRouter.kernels`.
package protocol ConvolutionKernel {
    /// The family that forcing an algorithm selects this kernel by.
    static var family: ConvolutionFamily { get }

    /// Whether the kernel can compute `pass` of `g` (forcing its family runs it wherever this holds).
    static func supports(_ pass: ConvolutionPass, _ g: ConvGeometry) -> Bool

    /// Whether automatic routing runs `pass` of `g` here on `cpu` (asked only where `supports` holds, and only when
    /// no kernel earlier in the router's list took the pass).
    static func prefers(_ pass: ConvolutionPass, _ g: ConvGeometry, on cpu: CPUFeatures) -> Bool

    /// `output = conv(input, weight)` without bias; `output` is fully written.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>)

    /// Overwrites the non-nil gradients of `sum(gradOutput * conv(input, weight))`, which the router sent here.
    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?)

    /// `forward` as the router runs it, with the algorithm the caller asked for: a kernel with variants picks one by
    /// it (FFT transform sizes); the others take the plain `forward`.
    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm)

    /// `backward` as the router runs it, with the algorithm the caller asked for (see the `forward` with `algorithm`).
    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?, algorithm: ConvAlgorithm)
}

extension ConvolutionKernel {
    /// The kernel's type name (`DirectConvolution`), for tests and logs.
    package static var name: String { "\(Self.self)" }

    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>) {
        preconditionFailure("\(Self.self) does not compute forward passes")
    }

    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?) {
        preconditionFailure("\(Self.self) does not compute gradients")
    }

    static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, geometry g: ConvGeometry,
                        output: UnsafeMutablePointer<Float>, algorithm: ConvAlgorithm) {
        forward(input: input, weight: weight, geometry: g, output: output)
    }

    static func backward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                         geometry g: ConvGeometry, gradInput: UnsafeMutablePointer<Float>?,
                         gradWeight: UnsafeMutablePointer<Float>?, algorithm: ConvAlgorithm) {
        backward(input: input, weight: weight, gradOutput: gradOutput, geometry: g, gradInput: gradInput,
                 gradWeight: gradWeight)
    }
}
