import Backbones
import Core
import Foundation
import Testing

/// The kernel `ConvolutionRouter` chooses for each pass of every convolution the backbones run on 64x64 and 150x150
/// images (batch 32, as in training), on a native AVX-512 machine and on an AVX2 machine, whatever this build is.
/// Kernels: `FFT`, `Pointwise`, `FewChannel` (`FewChannelWeightGradient`), `Direct`, `Tap`, `Im2Col`.
@Suite struct ConvolutionRoutingTests {
    /// Geometries seen by `ConvolutionRouter.forwardObserver`, in order of first use.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [ConvGeometry] = []
        func record(_ g: ConvGeometry) {
            lock.lock()
            if !seen.contains(g) { seen.append(g) }
            lock.unlock()
        }
        var geometries: [ConvGeometry] { lock.lock(); defer { lock.unlock() }; return seen }
    }

    /// The distinct convolutions of one eval-mode forward pass of `backbone` on `side x side` images, at batch 32.
    static func geometries(_ backbone: String, side: Int) throws -> [ConvGeometry] {
        let model = try BackboneFactory.make(name: backbone, seed: 1)
        model.eval()
        let recorder = Recorder()
        let images = Tensor(shape: [1, 1, side, side], scalars: [Float](repeating: 0.5, count: side * side))
        ConvolutionRouter.$forwardObserver.withValue({ recorder.record($0) }) {
            _ = withoutGradient { model(images) }
        }
        return recorder.geometries.map {
            ConvGeometry(batch: 32, inputChannels: $0.inputChannels, height: $0.height, width: $0.width,
                         outputChannels: $0.outputChannels, kernelHeight: $0.kernelHeight, kernelWidth: $0.kernelWidth,
                         stride: $0.stride, padding: $0.padding, dilation: $0.dilation)
        }
    }

    /// One line per geometry: `<Cin>x<Cout> k<k>s<stride>p<padding> <H>x<W>: <AVX-512 native> | <AVX2>`, each side the
    /// kernels of the forward pass, the input gradient and the weight gradient.
    static func table(_ geometries: [ConvGeometry]) -> [String] {
        func kernels(_ g: ConvGeometry, _ cpu: CPUFeatures) -> String {
            let router = ConvolutionRouter(cpu: cpu)
            return ConvolutionPass.allCases.map {
                router.kernel(for: $0, g).name.replacingOccurrences(of: "WeightGradient", with: "")
                    .replacingOccurrences(of: "Convolution", with: "")
            }.joined(separator: " ")
        }
        return geometries.map { g in
            "\(g.inputChannels)x\(g.outputChannels) k\(g.kernelHeight)s\(g.stride)p\(g.padding) \(g.height)x\(g.width): "
                + kernels(g, .avx512Native) + " | " + kernels(g, .avx2)
        }
    }

    static let expected: [String: [String]] = [
        "resnet18-64": [
            "1x64 k7s2p3 64x64: Im2Col Im2Col FewChannel | Im2Col Im2Col Im2Col",
            "64x64 k3s1p1 16x16: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k3s2p1 16x16: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "128x128 k3s1p1 8x8: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k1s2p0 16x16: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "128x256 k3s2p1 8x8: Direct Tap Direct | Tap Tap Tap",
            "256x256 k3s1p1 4x4: Direct Direct Direct | Tap Tap Tap",
            "128x256 k1s2p0 8x8: Pointwise Tap Tap | Tap Tap Tap",
            "256x512 k3s2p1 4x4: Direct Tap Tap | Tap Tap Tap",
            "512x512 k3s1p1 2x2: Direct Direct Tap | Tap Tap Tap",
            "256x512 k1s2p0 4x4: Pointwise Tap Tap | Tap Tap Tap",
        ],
        "resnet18-150": [
            "1x64 k7s2p3 150x150: Im2Col Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "64x64 k3s1p1 38x38: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k3s2p1 38x38: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "128x128 k3s1p1 19x19: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k1s2p0 38x38: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "128x256 k3s2p1 19x19: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "256x256 k3s1p1 10x10: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "128x256 k1s2p0 19x19: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "256x512 k3s2p1 10x10: Direct Tap Tap | Tap Tap Tap",
            "512x512 k3s1p1 5x5: Direct Direct Tap | Tap Tap Tap",
            "256x512 k1s2p0 10x10: Pointwise Tap Tap | Tap Tap Tap",
        ],
        "c8resnet-64": [
            "1x64 k7s2p3 65x65: Im2Col Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "64x64 k3s1p1 17x17: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k3s2p1 17x17: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "128x128 k3s1p1 9x9: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k1s2p0 17x17: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "128x256 k3s2p1 9x9: Direct Tap Direct | Tap Tap Tap",
            "256x256 k3s1p1 5x5: Direct Direct Direct | Tap Tap Tap",
            "128x256 k1s2p0 9x9: Pointwise Tap Tap | Tap Tap Tap",
            "256x512 k3s2p1 5x5: Direct Tap Tap | Tap Tap Tap",
            "512x512 k3s1p1 3x3: Direct Direct Tap | Tap Tap Tap",
            "256x512 k1s2p0 5x5: Pointwise Tap Tap | Tap Tap Tap",
        ],
        "c8resnet-150": [
            "1x64 k7s2p3 161x161: Im2Col Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "64x64 k3s1p1 41x41: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k3s2p1 41x41: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "128x128 k3s1p1 21x21: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "64x128 k1s2p0 41x41: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "128x256 k3s2p1 21x21: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "256x256 k3s1p1 11x11: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "128x256 k1s2p0 21x21: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
            "256x512 k3s2p1 11x11: Direct Im2Col Direct | Im2Col Im2Col Im2Col",
            "512x512 k3s1p1 6x6: Direct Direct Direct | Im2Col Im2Col Im2Col",
            "256x512 k1s2p0 11x11: Pointwise Im2Col Im2Col | Im2Col Im2Col Im2Col",
        ],
    ]

    @Test(arguments: ["resnet18", "c8resnet"], [64, 150])
    func routing(backbone: String, side: Int) throws {
        let actual = Self.table(try Self.geometries(backbone, side: side))
        let expected = Self.expected["\(backbone)-\(side)"] ?? []
        #expect(actual == expected, "\(backbone) at \(side):\n\(actual.joined(separator: "\n"))")
    }
}
