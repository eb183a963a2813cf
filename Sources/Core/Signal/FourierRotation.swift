import Foundation

/// Band-limited rotation of images `[..., H, W]` by an arbitrary angle with three Fourier shears.
///
/// Unser, Thevenaz & Yaroslavsky, "Convolution-based interpolation for fast, high-quality rotation of images",
/// IEEE Trans. Image Processing 4 (1995); Larkin, Oldfield & Klemm, Optics Communications 139 (1997).
/// `R(theta) = X(a) Y(b) X(a)` with `a = -tan(theta/2)`, `b = sin(theta)`, where each shear translates every
/// row (column) by a sub-pixel amount, applied exactly to the trigonometric interpolant by a phase ramp on its
/// FFT (FFTW, batched row plans from `FFTPlanCache`). The angle is first reduced to `[-45, 45]` degrees by
/// exact quarter turns, so shears stay small; the image is zero-padded to twice its size so the periodic
/// shifts never wrap content around. Nyquist bins keep only their real part (`cos(pi s)`), which makes every
/// shear a real operator whose adjoint is the opposite shear: the adjoint used for gradients is exact.
///
/// Orientation convention: see `PixelPermutation` (positive angles turn counterclockwise as displayed,
/// about the pixel-grid centre `((H-1)/2, (W-1)/2)`).
public struct FourierRotation: LinearOperator {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let quarter: PixelPermutation
    let height: Int, width: Int, padded: Int
    let offsetRow: Int, offsetColumn: Int
    /// Complex phase factors per shear step (`X`, `Y`, `X`), `[padded rows][padded/2 + 1]` interleaved.
    let phases: [[Float]]
    let residual: Double

    /// - Parameter angle: radians, counterclockwise.
    public init(shape: [Int], angle: Double) {
        precondition(shape.count >= 2, "rotation needs [..., H, W], got \(shape)")
        inputShape = shape
        let turns = (angle / (Double.pi / 2)).rounded()
        residual = angle - turns * Double.pi / 2
        quarter = PixelPermutation.rot90(shape: shape, times: Int(turns))
        outputShape = quarter.outputShape
        height = outputShape[outputShape.count - 2]
        width = outputShape[outputShape.count - 1]
        let side = 2 * max(height, width)
        padded = side + side % 2
        offsetRow = (padded - height) / 2
        offsetColumn = (padded - width) / 2
        let a = -Foundation.tan(residual / 2), b = Foundation.sin(residual)
        let cy = Double(offsetRow) + Double(height - 1) / 2, cx = Double(offsetColumn) + Double(width - 1) / 2
        let n = padded, half = padded / 2 + 1
        func table(_ shift: (Int) -> Double) -> [Float] {
            var t = [Float](repeating: 0, count: n * half * 2)
            for r in 0..<n {
                let s = shift(r)
                for k in 0..<half {
                    let phase = -2 * Double.pi * Double(k) * s / Double(n)
                    let nyquist = k == n / 2
                    t[(r * half + k) * 2] = Float(nyquist ? Foundation.cos(Double.pi * s) : Foundation.cos(phase)) / Float(n)
                    t[(r * half + k) * 2 + 1] = nyquist ? 0 : Float(Foundation.sin(phase)) / Float(n)
                }
            }
            return t
        }
        let rowShear = table { r in a * (cy - Double(r)) }
        let columnShear = table { c in -b * (Double(c) - cx) }
        phases = [rowShear, columnShear, rowShear]
    }

    public func apply(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        run(input, into: output, adjoint: false)
    }

    public func applyAdjoint(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        run(input, into: output, adjoint: true)
    }

    private func run(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, adjoint: Bool) {
        let plane = height * width
        let planes = plane == 0 ? 0 : input.count / plane
        var turned = [Float](repeating: 0, count: input.count)
        if !adjoint {
            turned.withUnsafeMutableBufferPointer { quarter.apply(input, into: $0) }
        } else {
            turned.withUnsafeMutableBufferPointer { dst in _ = dst.initialize(from: input) }
        }
        let n = padded, half = n / 2 + 1
        let forward = FFTPlanCache.shared.rowPlan(.realToComplex, length: n, count: n)
        let inverse = FFTPlanCache.shared.rowPlan(.complexToReal, length: n, count: n)
        var shearedOut = [Float](repeating: 0, count: input.count)
        let skip = Swift.abs(residual) < 1e-12
        turned.withUnsafeBufferPointer { src in
            shearedOut.withUnsafeMutableBufferPointer { dst in
                if skip { _ = dst.initialize(from: src); return }
                let srcAddress = Int(bitPattern: src.baseAddress), dstAddress = Int(bitPattern: dst.baseAddress)
                parallelChunks(planes) { range in
                    let s = UnsafePointer<Float>(bitPattern: srcAddress)!, d = UnsafeMutablePointer<Float>(bitPattern: dstAddress)!
                    let image = FFTBuffer(count: n * n), spare = FFTBuffer(count: n * n), spectrum = FFTBuffer(count: n * half * 2)
                    for p in range {
                        let img = image.pointer
                        img.update(repeating: 0, count: n * n)
                        for i in 0..<height {
                            (img + (offsetRow + i) * n + offsetColumn).update(from: s + p * plane + i * width, count: width)
                        }
                        for step in 0..<3 {
                            let transposeFirst = step == 1
                            if transposeFirst { transpose(img, into: spare.pointer, n); spare.pointer.withMemoryRebound(to: Float.self, capacity: 1) { img.update(from: $0, count: n * n) } }
                            forward.execute(input: img, output: spectrum.pointer)
                            phases[step].withUnsafeBufferPointer { ph in
                                let sp = spectrum.pointer
                                for e in 0..<(n * half) {
                                    let re = sp[2 * e], im = sp[2 * e + 1]
                                    let pr = ph[2 * e], pi = adjoint ? -ph[2 * e + 1] : ph[2 * e + 1]
                                    sp[2 * e] = re * pr - im * pi
                                    sp[2 * e + 1] = re * pi + im * pr
                                }
                            }
                            inverse.execute(input: spectrum.pointer, output: img)
                            if transposeFirst { transpose(img, into: spare.pointer, n); img.update(from: spare.pointer, count: n * n) }
                        }
                        for i in 0..<height {
                            (d + p * plane + i * width).update(from: img + (offsetRow + i) * n + offsetColumn, count: width)
                        }
                    }
                }
            }
        }
        if adjoint {
            shearedOut.withUnsafeBufferPointer { quarter.applyAdjoint($0, into: output) }
        } else {
            _ = output.initialize(from: shearedOut)
        }
    }

    private func transpose(_ a: UnsafeMutablePointer<Float>, into b: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { for j in 0..<n { b[j * n + i] = a[i * n + j] } }
    }
}
