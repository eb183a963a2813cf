import Core

/// Brings square `[N, 1, S, S]` images to the nearest side `S'` with `S' % 32 == 1`, the sizes on which every strided
/// layer of `EquivariantResNet` keeps exact 90-degree equivariance.
///
/// The rule (as in e2cnn): a layer of stride `s`, kernel `k` and padding `p` on side `S` is exact for quarter turns when
/// `(S + 2p - k) % s == 0`, which puts its sampling grid symmetric about the image centre. The stem (7x7, stride 2,
/// padding 3), the 3x3 max pool (stride 2, padding 1) and the first blocks of stages 2-4 (3x3 stride 2 padding 1, and
/// 1x1 stride 2 shortcuts) each need an odd input side, so `S - 1` must be divisible by 2^5: 33, 65, 97, 129, 161, ...
///
/// - An odd `S` is zero-padded symmetrically (the pad `S' - S` is even), which commutes with rotations about the centre.
/// - An even `S` (64, 150: the pixel grid is centred between pixels) is resampled to `S'` by centre-aligned bilinear
///   interpolation, `out = R x R^T` with a mirror-symmetric `S' x S` matrix `R`; the resampling commutes exactly with
///   quarter turns and flips of the image, so invariance to rotations of the original image is preserved.
///   64 -> 65 and 150 -> 161 are the presets' sizes.
public struct EquivariantInputResampler: Sendable {
    /// The side every image is brought to.
    public let outputSide: Int
    public let inputSide: Int
    private let matrix: [Float]  // [outputSide, inputSide]

    /// Granularity of valid sides: 2^(number of stride-2 layers).
    public static let sideModulus = 32

    /// The nearest valid side to `side` (ties go up).
    public static func validSide(near side: Int) -> Int {
        let below = ((side - 1) / sideModulus) * sideModulus + 1
        let above = below + sideModulus
        if below < 17 { return above }
        return side - below < above - side ? below : above
    }

    public init(inputSide: Int) {
        self.inputSide = inputSide
        let out = EquivariantInputResampler.validSide(near: inputSide)
        outputSide = out
        var r = [Float](repeating: 0, count: out * inputSide)
        if inputSide % 2 == 1 {
            let pad = (out - inputSide) / 2
            for i in 0..<out where i - pad >= 0 && i - pad < inputSide { r[i * inputSide + i - pad] = 1 }
            // Cropping when out < inputSide is the same map with negative pad.
            if out < inputSide { for i in 0..<out { r[i * inputSide + i + (inputSide - out) / 2] = 1 } }
        } else {
            let scale = Double(inputSide) / Double(out)
            let cIn = Double(inputSide - 1) / 2, cOut = Double(out - 1) / 2
            for i in 0...(out / 2) {
                let x = cIn + (Double(i) - cOut) * scale
                let x0 = Int(x.rounded(.down)), t = Float(x - Double(x0))
                var row = [Float](repeating: 0, count: inputSide)
                if x0 >= 0 && x0 < inputSide { row[x0] += 1 - t }
                if x0 + 1 >= 0 && x0 + 1 < inputSide { row[x0 + 1] += t }
                for j in 0..<inputSide {
                    r[i * inputSide + j] = row[j]
                    r[(out - 1 - i) * inputSide + (inputSide - 1 - j)] = row[j]
                }
            }
        }
        matrix = r
    }

    /// `[N, C, S, S] -> [N, C, S', S']`. Not differentiable with respect to the images (they are data).
    public func callAsFunction(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[2] == inputSide && images.shape[3] == inputSide,
                     "EquivariantInputResampler: expected [N, C, \(inputSide), \(inputSide)], got \(images.shape)")
        if outputSide == inputSide { return images }
        let planes = images.shape[0] * images.shape[1]
        let s = inputSide, o = outputSide
        var result = [Float](repeating: 0, count: planes * o * o)
        let r = matrix
        images.scalars.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                let srcAddress = src.baseAddress!, dstAddress = dst.baseAddress!
                parallelChunks(planes) { range in
                    var temp = [Float](repeating: 0, count: o * s)
                    r.withUnsafeBufferPointer { rp in
                        temp.withUnsafeMutableBufferPointer { tp in
                            for p in range {
                                // temp = R X  (o x s), out = temp R^T (o x o)
                                Gemm.multiply(m: o, n: s, k: s, a: rp.baseAddress!, lda: s, b: srcAddress + p * s * s, ldb: s,
                                              c: tp.baseAddress!, ldc: s, parallel: false)
                                Gemm.multiply(transposeB: true, m: o, n: o, k: s, a: tp.baseAddress!, lda: s,
                                              b: rp.baseAddress!, ldb: s, c: dstAddress + p * o * o, ldc: o, parallel: false)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [images.shape[0], images.shape[1], o, o], scalars: result)
    }
}
