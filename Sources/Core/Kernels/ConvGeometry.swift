/// The sizes of a batched 2-D convolution (or pooling window) over NCHW images.
///
/// Output extent per axis follows PyTorch (floor mode):
/// `out = (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1`.
package struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
    package let batch: Int
    package let inputChannels: Int
    package let height: Int
    package let width: Int
    package let outputChannels: Int
    package let kernelHeight: Int
    package let kernelWidth: Int
    package let stride: Int
    package let padding: Int
    package let dilation: Int

    package init(batch: Int, inputChannels: Int, height: Int, width: Int, outputChannels: Int,
                kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        precondition(batch >= 0 && inputChannels > 0 && outputChannels > 0, "conv geometry: bad channel or batch counts")
        precondition(kernelHeight > 0 && kernelWidth > 0, "conv geometry: kernel must be positive, got \(kernelHeight)x\(kernelWidth)")
        precondition(stride > 0 && dilation > 0 && padding >= 0,
                     "conv geometry: stride \(stride) and dilation \(dilation) must be positive, padding \(padding) >= 0")
        self.batch = batch
        self.inputChannels = inputChannels
        self.height = height
        self.width = width
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        precondition(outputHeight > 0 && outputWidth > 0,
                     "conv geometry: input \(height)x\(width) too small for kernel \(kernelHeight)x\(kernelWidth) "
                     + "(stride \(stride), padding \(padding), dilation \(dilation))")
    }

    package var outputHeight: Int { (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1 }
    package var outputWidth: Int { (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1 }
    /// Pixels per input plane.
    package var inputPlane: Int { height * width }
    /// Pixels per output plane.
    package var outputPlane: Int { outputHeight * outputWidth }
    /// Rows of the im2col matrix: `inputChannels * kernelHeight * kernelWidth`.
    package var patchSize: Int { inputChannels * kernelHeight * kernelWidth }
    /// A 1x1, stride-1, unpadded convolution is a plain matrix product per image: no im2col needed.
    package var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
    /// Multiply-adds of the forward pass times two.
    package var forwardFlops: Double {
        2 * Double(batch) * Double(outputChannels) * Double(outputPlane) * Double(patchSize)
    }

    package var description: String {
        "[\(batch), \(inputChannels), \(height), \(width)] * [\(outputChannels), \(inputChannels), \(kernelHeight), \(kernelWidth)]"
            + " stride \(stride) padding \(padding) dilation \(dilation)"
    }

    /// The output columns `lo..<hi` (along one axis) whose tap at `offset = tap * dilation - padding` lands inside
    /// `0..<extent`: `0 <= o * stride + offset < extent`.
    @inline(__always)
    static func validRange(offset: Int, extent: Int, stride: Int, outputs: Int) -> (Int, Int) {
        let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let last = extent - 1 - offset
        let hi = last < 0 ? 0 : min(outputs, last / stride + 1)
        return (min(lo, hi), hi)
    }
}
