import Backbones
import Core
import Foundation
import Testing
import TestSupport

/// Numerical agreement with PyTorch: `scripts/make_pytorch_fixtures.py` saved a torchvision-style BasicBlock
/// (8 -> 16 planes, stride 2, 1x1 downsample; random weights and batch-norm statistics), an input and the
/// eval-mode output in one safetensors file.
@Suite struct PyTorchFixtureTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/basic_block.safetensors")

    @Test func basicBlockMatchesPyTorchInEvalMode() throws {
        let contents = try Safetensors.read(from: Self.fixture)
        var weights = StateDict()
        for (key, tensor) in contents.entries where key.hasPrefix("block.") {
            weights[String(key.dropFirst("block.".count))] = tensor
        }
        var g = SeededGenerator(seed: 0)
        let block = BasicBlock(inputPlanes: 8, planes: 16, stride: 2, generator: &g)
        try block.load(stateDict: weights)  // strict: the key sets must be identical
        block.eval()
        let input = try #require(contents["input"]), expected = try #require(contents["output"])
        let output = withoutGradient { block(input) }
        #expect(output.shape == expected.shape)
        let error = relativeError(output.scalars, expected.scalars)
        #expect(error < 1e-4, "max relative error \(error)")
    }
}
