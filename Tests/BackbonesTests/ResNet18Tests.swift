import Backbones
import Core
import Foundation
import Testing
import TestSupport

@Suite struct ResNet18Tests {
    @Test func parameterCountMatchesTheReference() {
        // torchvision resnet18 with conv1 1->64 and fc 512->256: 11,689,512 - 6,272 - 381,672.
        #expect(ResNet18().parameterCount == 11_301_568)
    }

    @Test func torchvisionKeyNames() {
        let keys = ResNet18().stateDict().keys
        for key in ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                    "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.1.bn2.running_var",
                    "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight",
                    "fc.weight", "fc.bias"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(!keys.contains("layer1.0.downsample.0.weight"))
        #expect(keys.count == 122)
    }

    @Test func outputShapesAt64And150() {
        let model = ResNet18(seed: 1)
        model.eval()
        for side in [64, 150] {
            let x = testTensor([2, 1, side, side], seed: 3, requiresGrad: false)
            #expect(withoutGradient { model(x) }.shape == [2, 256])
        }
    }

    @Test func gradientsReachEveryParameter() {
        let model = ResNet18(seed: 2)
        let x = testTensor([2, 1, 32, 32], seed: 4, requiresGrad: false)
        (model(x) * model(x)).mean().backward()
        for (key, p) in model.namedParameters() {
            let g = p.grad?.scalars ?? []
            #expect(!g.isEmpty && g.contains { $0 != 0 }, "no gradient reached \(key)")
        }
    }

    @Test func trainModeUsesBatchStatisticsAndUpdatesRunningOnes() {
        let model = ResNet18(seed: 3)
        let x = testTensor([4, 1, 32, 32], seed: 5, requiresGrad: false)
        let before = model.bn1.runningMean.scalars
        _ = withoutGradient { model(x) }
        #expect(model.bn1.runningMean.scalars != before)
        #expect(model.bn1.numBatchesTracked.scalars == [1])
        model.eval()
        let frozen = model.bn1.runningMean.scalars
        let a = withoutGradient { model(x) }, b = withoutGradient { model(x) }
        #expect(model.bn1.runningMean.scalars == frozen)
        #expect(a.scalars == b.scalars)
        // In eval mode one image's features do not depend on the rest of the batch.
        let single = withoutGradient { model(Tensor(shape: [1, 1, 32, 32], scalars: Array(x.scalars[0..<1024]))) }
        #expect(relativeError(single.scalars, Array(a.scalars[0..<256])) < 1e-5)
    }

    @Test func safetensorsRoundTripAndDeepCopy() throws {
        let model = ResNet18(seed: 4)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(model.stateDict(), to: url)
        let other = ResNet18(seed: 5)
        try other.load(stateDict: try Safetensors.read(from: url))
        for (a, b) in zip(model.stateDict().entries, other.stateDict().entries) {
            #expect(a.key == b.key && a.tensor.scalars == b.tensor.scalars)
        }
        let copy = model.deepCopy()
        copy.fc.weight.scalars[0] += 1
        #expect(copy.fc.weight.scalars[0] != model.fc.weight.scalars[0])
    }

    @Test func factoryRejectsUnknownNames() {
        #expect(throws: BackboneError.self) { try BackboneFactory.make(name: "vgg16") }
        #expect(BackboneFactory.names.contains("resnet18") && BackboneFactory.names.contains("c8resnet"))
    }

    @Test func flopsOfTheReferenceNetwork() {
        // ResNet18 at 224x224 with 3 input channels is 1.82 GMACs; with 1 channel, 64x64 input and fc 512->256
        // the count is dominated by the 3x3 stages: 0.142 GMACs (2 FLOPs each).
        let flops = ResNet18().forwardFLOPs(height: 64, width: 64)
        #expect(abs(flops / 2e9 - 0.142) < 0.005)
    }
}
