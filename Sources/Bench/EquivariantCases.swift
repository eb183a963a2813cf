import Core
import Equivariant
import Foundation

// Equivariant cases, mirrored by bench/reference/e2cnn_bench.py with e2cnn 0.2.3:
//   r2conv-c8-16x16-k5-64-{fwd|bwd}  C8 R2Conv, 16 -> 16 regular fields (128 -> 128 channels), 5x5, padding 2,
//                                    batch 32 of 64x64, training mode: forward (filter expansion + conv, with
//                                    gradients recorded) / backward alone (conv gradients + expansion adjoint)
//   r2conv-build-c8-64x64-k5         constructing a 64 -> 64 regular-field 5x5 C8 R2Conv, basis and He
//                                    initialisation included, cold: every run first empties the shared caches
//                                    (`FilterExpansion.clearSharedCaches()`: expansions, synthesis matrices,
//                                    bases, FFTW plans)
//   filter-expand-c8-64x64-k5        that layer's filter expansion, forward + adjoint (coefficients -> filter bank
//                                    [512, 512, 5, 5] -> coefficient gradient)
//   rotate-fft-150                   32 images 150x150 rotated by 30 degrees, band-limited (three FFT shears)

private let c8 = SymmetryGroup.cyclic(8)
private let r2convBatch = 32

let equivariantCases: [BenchCase] = {
    let fields = FieldType(c8, regular: 16)
    func makeLayer() -> (R2Conv, Tensor) {
        var g = SeededGenerator(seed: 1)
        let layer = R2Conv(fields, fields, kernelSize: 5, padding: 2, generator: &g)
        return (layer, benchTensor([r2convBatch, fields.size, 64, 64], seed: 2, requiresGrad: true))
    }
    // conv FLOPs: 2 N Cout H W Cin k^2 (the expansion adds < 0.1 %)
    let flops = 2.0 * Double(r2convBatch * 128 * 64 * 64 * 128 * 25)
    let forward = BenchCase(name: "r2conv-c8-16x16-k5-64-fwd", flops: flops, images: r2convBatch) {
        let (layer, x) = makeLayer()
        return { _ = layer(x) }
    }
    let backward = BenchCase(name: "r2conv-c8-16x16-k5-64-bwd", flops: 2 * flops, images: r2convBatch) {
        let (layer, x) = makeLayer()
        let y = layer(x)
        let seed = benchTensor(y.shape, seed: 3)
        return {
            x.grad = nil
            layer.weight.grad = nil
            layer.bias?.grad = nil
            y.backward(seed)
        }
    }
    let wide = FieldType(c8, regular: 64)
    let build = BenchCase(name: "r2conv-build-c8-64x64-k5") {
        return {
            FilterExpansion.clearSharedCaches()
            var g = SeededGenerator(seed: 4)
            _ = R2Conv(wide, wide, kernelSize: 5, padding: 2, generator: &g)
        }
    }
    let expand = BenchCase(name: "filter-expand-c8-64x64-k5") {
        let expansion = FilterExpansion.shared(from: wide, to: wide, kernelSize: 5)
        let coefficients = benchTensor([expansion.coefficientCount], seed: 5).scalars
        var filter = [Float](repeating: 0, count: expansion.outputShape.reduce(1, *))
        var gradient = [Float](repeating: 0, count: expansion.coefficientCount)
        return {
            coefficients.withUnsafeBufferPointer { c in filter.withUnsafeMutableBufferPointer { expansion.apply(c, into: $0) } }
            filter.withUnsafeBufferPointer { f in gradient.withUnsafeMutableBufferPointer { expansion.applyAdjoint(f, into: $0) } }
        }
    }
    let rotate = BenchCase(name: "rotate-fft-150", images: 32) {
        let images = benchTensor([32, 1, 150, 150], seed: 6)
        return { _ = withoutGradient { ImageRotation.rotate(images, degrees: 30) } }
    }
    return [forward, backward, build, expand, rotate]
}()
