import Core
import TestSupport
import Testing

/// A leaf with a parameter, a float buffer and an integer buffer, like a batch norm.
private final class Tracker: Layer {
    let scale: Tensor
    let runningMean: Tensor
    let numBatchesTracked: Tensor
    var _cache: Tensor? = Tensor.zeros([3])

    init(features: Int) {
        scale = Tensor.ones([features], requiresGrad: true)
        runningMean = Tensor.zeros([features])
        numBatchesTracked = Tensor(0)
        super.init()
    }
    override var bufferNames: Set<String> { ["runningMean", "numBatchesTracked"] }
    override var integerBufferNames: Set<String> { ["numBatchesTracked"] }
    override func forward(_ input: Tensor) -> Tensor { input * scale }
    override func makeCopy() -> Module { Tracker(features: scale.count) }
}

private final class Net: Module {
    let stem: Linear
    let layer1: Sequential
    let heads: [Module]

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        stem = Linear(inputFeatures: 4, outputFeatures: 3, generator: &g)
        layer1 = Sequential([Tracker(features: 3), ReLU(), Linear(inputFeatures: 3, outputFeatures: 2, bias: false, generator: &g)])
        heads = [Linear(inputFeatures: 2, outputFeatures: 1, generator: &g)]
        super.init()
    }
    override func makeCopy() -> Module { Net(seed: 0) }
}

@Suite struct ModuleTests {
    @Test func keysAreDottedSnakeCasePathsInDeclarationOrder() {
        let net = Net(seed: 1)
        #expect(net.stateDict().keys == [
            "stem.weight", "stem.bias",
            "layer1.0.scale", "layer1.0.running_mean", "layer1.0.num_batches_tracked",
            "layer1.2.weight",
            "heads.0.weight", "heads.0.bias",
        ])
        #expect(net.namedParameters().map(\.key) == ["stem.weight", "stem.bias", "layer1.0.scale", "layer1.2.weight",
                                                     "heads.0.weight", "heads.0.bias"])
        #expect(net.parameterCount == 12 + 3 + 3 + 6 + 2 + 1)
        #expect(net.stateDict().integerKeys == ["layer1.0.num_batches_tracked"])
        #expect(net.allModules().count == 1 + 1 + 1 + 3 + 1)  // net, stem, layer1 and its 3 layers, heads.0
    }

    @Test func trainEvalRecurseIntoEveryDescendant() {
        let net = Net(seed: 1)
        #expect(net.allModules().allSatisfy { $0.isTraining })
        net.eval()
        #expect(net.allModules().allSatisfy { !$0.isTraining })
        net.layer1.train()
        #expect(!net.isTraining && !net.stem.isTraining)
        #expect(net.layer1.allModules().allSatisfy { $0.isTraining })
    }

    @Test func freezeRemovesParametersFromTraining() {
        let net = Net(seed: 1)
        #expect(net.trainableParameters().count == 6)
        net.layer1.freeze()
        #expect(net.trainableParameters().count == 4)
        let frozen = net.layer1.namedParameters().allSatisfy { !$0.tensor.requiresGrad }
        #expect(frozen)
        let x = testTensor([2, 4], seed: 3, requiresGrad: false)
        net.heads[0].asLayer(net.layer1(net.stem(x))).sum().backward()
        #expect(net.stem.weight.grad != nil)
        #expect((net.layer1.layers[2] as! Linear).weight.grad == nil)
        net.layer1.freeze(false)
        #expect(net.trainableParameters().count == 6)
    }

    @Test func deepCopyIsIndependentAndKeepsModeAndFreezing() {
        let net = Net(seed: 1)
        net.layer1.freeze()
        net.eval()
        let copy = net.deepCopy()
        #expect(!copy.isTraining && !copy.layer1.isTraining)
        #expect(copy.trainableParameters().count == 4)
        for (a, b) in zip(net.stateDict().entries, copy.stateDict().entries) {
            #expect(a.key == b.key && a.tensor.scalars == b.tensor.scalars)
            #expect(net.namedTensors().first { $0.key == a.key }!.tensor !== copy.namedTensors().first { $0.key == b.key }!.tensor)
        }
        let before = copy.stem.weight.scalars
        net.stem.weight.assign(net.stem.weight.scalars.map { $0 + 1 })
        #expect(copy.stem.weight.scalars == before)
        copy.heads[0].eval()
        copy.train()
        #expect(!net.heads[0].isTraining)
    }

    @Test func loadRejectsMissingUnexpectedAndMisshapenEntriesWithoutChangingAnything() throws {
        let net = Net(seed: 1), other = Net(seed: 2)
        let original = net.stateDict()

        var missing = other.stateDict()
        missing["stem.bias"] = nil
        #expect(throws: StateDictError.missingKeys(["stem.bias"])) { try net.load(stateDict: missing) }

        var unexpected = other.stateDict()
        unexpected["stem.extra"] = Tensor.zeros([1])
        #expect(throws: StateDictError.unexpectedKeys(["stem.extra"])) { try net.load(stateDict: unexpected) }

        var misshapen = other.stateDict()
        misshapen["layer1.2.weight"] = Tensor.zeros([3, 2])
        #expect(throws: StateDictError.shapeMismatch(key: "layer1.2.weight", expected: [2, 3], found: [3, 2])) {
            try net.load(stateDict: misshapen)
        }
        for (a, b) in zip(original.entries, net.stateDict().entries) { #expect(a.tensor.scalars == b.tensor.scalars) }

        try net.load(stateDict: missing, strict: false)
        #expect(net.stem.bias!.scalars == original["stem.bias"]!.scalars)
        #expect(net.stem.weight.scalars == other.stem.weight.scalars)

        try net.load(stateDict: other.stateDict())
        for (a, b) in zip(other.stateDict().entries, net.stateDict().entries) { #expect(a.tensor.scalars == b.tensor.scalars) }
    }

    @Test func loadBumpsVersionsSoCachesNotice() throws {
        let net = Net(seed: 1)
        let v = net.stem.weight.version
        try net.load(stateDict: Net(seed: 2).stateDict())
        #expect(net.stem.weight.version > v)
    }
}

private extension Module {
    func asLayer(_ x: Tensor) -> Tensor { (self as! Layer)(x) }
}
