import Foundation
import Testing
import TestSupport
@testable import Core

@Suite struct ImageRotationTests {
    /// A sum of Gaussian blobs (sigma 2.5 px, band-limited to ~1e-13 at Nyquist), whose exact rotation is the
    /// same sum with rotated centres. Centres lie within a third of the side from the middle.
    func blobs(size: Int, angle: Double = 0) -> [Float] {
        let centres: [(Double, Double, Double)] = [(4, 3, 1), (-6, 2, -0.7), (1, -7, 0.5), (-3, -4, 0.8)]
        let c = (Double(size) - 1) / 2, sigma = 2.5
        var image = [Float](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0..<size {
                let x = Double(j) - c, y = c - Double(i)
                var v = 0.0
                for (cx, cy, a) in centres {
                    let rx = cos(angle) * cx - sin(angle) * cy, ry = sin(angle) * cx + cos(angle) * cy
                    v += a * exp(-((x - rx) * (x - rx) + (y - ry) * (y - ry)) / (2 * sigma * sigma))
                }
                image[i * size + j] = Float(v)
            }
        }
        return image
    }

    @Test func rot90MatchesTorchConvention() {
        let t = Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        // torch.rot90(torch.tensor([[1,2,3],[4,5,6]]), 1, (0, 1)) == [[3,6],[2,5],[1,4]]
        let r = ImageRotation.rot90(t, times: 1)
        #expect(r.shape == [1, 3, 2])
        #expect(r.scalars == [3, 6, 2, 5, 1, 4])
        #expect(ImageRotation.rot90(t, times: -1).scalars == ImageRotation.rot90(t, times: 3).scalars)
        let four = ImageRotation.rot90(ImageRotation.rot90(r, times: 2), times: 1)
        #expect(four.scalars == t.scalars)
    }

    @Test func flipsMirrorTheRightAxis() {
        let t = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(ImageRotation.flipHorizontal(t).scalars == [2, 1, 4, 3])
        #expect(ImageRotation.flipVertical(t).scalars == [3, 4, 1, 2])
    }

    @Test func quarterTurnsAreExactWithBothMethods() {
        let t = testTensor([2, 9, 9], seed: 3, requiresGrad: false)
        for q in -2...3 {
            let exact = ImageRotation.rot90(t, times: q).scalars
            #expect(ImageRotation.rotate(t, degrees: Double(90 * q)).scalars == exact)
        }
        let viaBilinear = ImageRotation.rotate(t, degrees: 90, method: .bilinear).scalars
        #expect(relativeError(viaBilinear, ImageRotation.rot90(t, times: 1).scalars) < 1e-6)
    }

    @Test func bandLimitedRotationMatchesAnalyticRotation() {
        let size = 48  // the blobs fall below 1e-9 at the border: no truncated content
        let image = Tensor(shape: [1, size, size], scalars: blobs(size: size))
        for degrees in [45.0, 30, -17, 120] {
            let rotated = ImageRotation.rotate(image, degrees: degrees).scalars
            let expected = blobs(size: size, angle: degrees * Double.pi / 180)
            // The blobs are band-limited to ~1e-13 and vanish at the border: only float32 FFT round-off remains.
            #expect(relativeError(rotated, expected) < 2e-5, "angle \(degrees)")
            let bilinear = ImageRotation.rotate(image, degrees: degrees, method: .bilinear).scalars
            // Bilinear interpolation smooths the blobs: percent-level error, and the same direction.
            #expect(relativeError(bilinear, expected) < 5e-2, "bilinear angle \(degrees)")
        }
    }

    @Test func rotationOperatorsHaveExactAdjoints() {
        let shape = [2, 10, 12]
        let operators: [any LinearOperator] = [
            FourierRotation(shape: shape, angle: 0.4), FourierRotation(shape: shape, angle: 2.0),
            BilinearRotation(shape: shape, angle: -0.7), PixelPermutation.rot90(shape: shape, times: 1),
            PixelPermutation.flipHorizontal(shape: shape),
        ]
        for op in operators {
            let x = testTensor(op.inputShape, seed: 5, requiresGrad: false).scalars
            let y = testTensor(op.outputShape, seed: 9, requiresGrad: false).scalars
            let ax = op.apply(x), aty = op.applyAdjoint(y)
            let lhs = zip(ax, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(x, aty).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(lhs - rhs) < 1e-4 * max(1, abs(lhs)), "\(type(of: op))")
        }
    }

    @Test func rotationIsDifferentiable() {
        let x = testTensor([1, 6, 6], seed: 2)
        let error = gradientCheckError([x]) { ImageRotation.rotate($0[0], degrees: 33) }
        #expect(error < 5e-3)
    }
}
