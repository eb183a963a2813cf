import Core
import TestSupport
import Testing

/// Sample variance of an array (double accumulation).
private func variance(_ values: [Float]) -> Double {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    return values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
}

@Suite struct LayerTests {
    @Test func linearMatchesNaiveProductAndGradients() {
        var g = SeededGenerator(seed: 1)
        let layer = Linear(inputFeatures: 5, outputFeatures: 3, generator: &g)
        let x = testTensor([2, 4, 5], seed: 2)
        let y = layer(x)
        #expect(y.shape == [2, 4, 3])
        for r in 0..<8 { for o in 0..<3 {
            var s = Double(layer.bias!.scalars[o])
            for i in 0..<5 { s += Double(x.scalars[r * 5 + i]) * Double(layer.weight.scalars[o * 5 + i]) }
            #expect(abs(Double(y.scalars[r * 3 + o]) - s) < 1e-5)
        } }
        #expect(gradientCheckError([x, layer.weight, layer.bias!]) { $0[0].linear(weight: $0[1], bias: $0[2]) } < 2e-3)
        let noBias = Linear(inputFeatures: 5, outputFeatures: 2, bias: false, generator: &g)
        #expect(noBias.bias == nil && noBias.stateDict().keys == ["weight"])
        #expect(gradientCheckError([x, noBias.weight]) { $0[0].linear(weight: $0[1]) } < 2e-3)
    }

    @Test func pytorchDefaultInitialisationBoundsAndSpread() {
        var g = SeededGenerator(seed: 3)
        let linear = Linear(inputFeatures: 64, outputFeatures: 128, generator: &g)
        let bound: Float = 1 / 8
        #expect(linear.weight.scalars.allSatisfy { abs($0) <= bound } && linear.bias!.scalars.allSatisfy { abs($0) <= bound })
        // U(-b, b) has variance b^2 / 3; with 8192 samples the relative standard error of the variance is ~1%.
        #expect(abs(variance(linear.weight.scalars) / Double(bound * bound / 3) - 1) < 0.05)

        let conv = Conv2D(inputChannels: 8, outputChannels: 16, kernelSize: 3, generator: &g)
        let convBound = 1 / Float(8 * 9).squareRoot()
        #expect(conv.weight.shape == [16, 8, 3, 3])
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= convBound } && conv.bias!.scalars.allSatisfy { abs($0) <= convBound })

        let normal = Initializer.kaimingNormal(fanOut: [64, 32, 3, 3], generator: &g)
        // std sqrt(2 / fanOut) with fanOut = 64 * 9; 18432 samples give ~0.7% relative error on the variance.
        #expect(abs(variance(normal.scalars) / (2.0 / 576) - 1) < 0.05)
        #expect(normal.requiresGrad)
    }

    @Test func conv2DCallsConvolutionWithItsConfiguration() {
        var g = SeededGenerator(seed: 4)
        let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, dilation: 1, bias: true, generator: &g)
        let x = testTensor([2, 2, 7, 6], seed: 5, requiresGrad: false)
        let y = conv(x)
        #expect(y.shape == [2, 3, 4, 3])
        #expect(y.scalars == x.conv2d(conv.weight, bias: conv.bias, stride: 2, padding: 1).scalars)
        #expect(conv.stateDict().keys == ["weight", "bias"])
        let copy = conv.deepCopy()
        #expect(copy(x).scalars == y.scalars)
    }

    @Test func activationLayersApplyTheirOps() {
        let x = testTensor([2, 3, 4], seed: 6, low: -2, high: 2, requiresGrad: false)
        #expect(ReLU()(x).scalars == x.relu().scalars)
        #expect(LeakyReLU(slope: 0.2)(x).scalars == x.leakyRelu(slope: 0.2).scalars)
        #expect(ELU(alpha: 0.5)(x).scalars == x.elu(alpha: 0.5).scalars)
        #expect(Sigmoid()(x).scalars == x.sigmoid().scalars)
        #expect(Tanh()(x).scalars == x.tanh().scalars)
        #expect(Flatten()(x).shape == [2, 12])
        for layer: Layer in [ReLU(), LeakyReLU(slope: 0.3), ELU(), Sigmoid(), Tanh(), Flatten()] {
            #expect(layer.stateDict().keys.isEmpty)
            #expect(type(of: layer.deepCopy()) == type(of: layer))
        }
        #expect((LeakyReLU(slope: 0.3).deepCopy() as LeakyReLU).slope == 0.3)
    }

    @Test func sequentialChainsAndKeysByIndex() {
        var g = SeededGenerator(seed: 7)
        let a = Linear(inputFeatures: 4, outputFeatures: 6, generator: &g)
        let b = Linear(inputFeatures: 6, outputFeatures: 2, generator: &g)
        let model = Sequential([a, Tanh(), b])
        let x = testTensor([3, 4], seed: 8, requiresGrad: false)
        #expect(model(x).scalars == b(a(x).tanh()).scalars)
        #expect(model.stateDict().keys == ["0.weight", "0.bias", "2.weight", "2.bias"])
        let copy = model.deepCopy()
        #expect(copy(x).scalars == model(x).scalars)
        a.weight.assign([Float](repeating: 0, count: 24))
        #expect(copy(x).scalars != model(x).scalars)
    }

    @Test func dropoutIsSeededScaledAndInactiveInEval() {
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let d1 = Dropout(probability: 0.25, generator: &g1), d2 = Dropout(probability: 0.25, generator: &g2)
        let x = Tensor.ones([4000])
        let y1 = d1(x), y2 = d2(x)
        #expect(y1.scalars == y2.scalars)
        #expect(y1.scalars.allSatisfy { $0 == 0 || $0 == Float(1) / 0.75 })
        // Binomial(4000, 0.25): mean 1000 zeros, standard deviation ~27; allow 5 sigma.
        let zeros = y1.scalars.filter { $0 == 0 }.count
        #expect(abs(zeros - 1000) < 140)
        #expect(d1(x).scalars != y1.scalars)
        let copy = d1.deepCopy()
        #expect(copy(x).scalars == d1(x).scalars)
        d1.eval()
        #expect(d1(x) === x)
    }

    @Test func batchNormUsesTorchvisionKeysAndUpdatesRunningStatistics() {
        let bn = BatchNorm2D(featureCount: 2, momentum: 0.1)
        #expect(bn.stateDict().keys == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(bn.stateDict().integerKeys == ["num_batches_tracked"])
        #expect(bn.namedParameters().map(\.key) == ["weight", "bias"])
        // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3); channel 1 holds 10 everywhere.
        let x = Tensor(shape: [2, 2, 1, 2], scalars: [1, 2, 10, 10, 3, 4, 10, 10])
        let y = bn(x)
        let s = 1 / Float(1.25 + 1e-5).squareRoot()
        let expected: [Float] = [-1.5 * s, -0.5 * s, 0, 0, 0.5 * s, 1.5 * s, 0, 0]
        #expect(zip(y.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(bn.runningMean.scalars, [0.25, 1.0]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(bn.runningVar.scalars, [0.9 + 0.1 * 5 / 3, 0.9]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(bn.numBatchesTracked.item == 1)

        bn.eval()
        let z = bn(x)
        #expect(abs(z.scalars[0] - (1 - 0.25) / (bn.runningVar.scalars[0] + 1e-5).squareRoot()) < 1e-5)
        #expect(bn.numBatchesTracked.item == 1)
    }

    @Test func batchStatisticsModeLeavesRunningStatisticsAloneAndIsRestored() {
        let bn = BatchNorm2D(featureCount: 2)
        let model = Sequential([bn, ReLU(), Sequential([BatchNorm2D(featureCount: 2)])])
        let x = testTensor([3, 2, 2, 2], seed: 12, requiresGrad: false)
        let before = model.stateDict()
        model.eval()
        let inEval = withoutGradient { model(x) }
        let y = model.withBatchNormMode(.batchStatistics) {
            #expect(bn.mode == .batchStatistics)
            return withoutGradient { model(x) }
        }
        #expect(y.scalars != inEval.scalars)
        for (a, b) in zip(before.entries, model.stateDict().entries) { #expect(a.tensor.scalars == b.tensor.scalars) }
        #expect(bn.mode == .inference && bn.modeOverride == nil)
        // Training mode normalises with the same batch statistics (and only then updates the running ones).
        model.train()
        let trained = withoutGradient { model(x) }
        #expect(zip(y.scalars, trained.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
        let inner = (model.layers[2] as! Sequential).layers[0] as! BatchNorm2D
        #expect(bn.numBatchesTracked.item == 1 && inner.numBatchesTracked.item == 1)
        #expect(model.stateDict()["0.running_mean"]!.scalars != before["0.running_mean"]!.scalars)
    }

    @Test func batchNorm1DAcceptsRank2And3() {
        let bn = BatchNorm1D(featureCount: 3)
        let x2 = testTensor([4, 3], seed: 13, requiresGrad: false)
        let x3 = testTensor([4, 3, 5], seed: 14, requiresGrad: false)
        #expect(bn(x2).shape == [4, 3] && bn(x3).shape == [4, 3, 5])
        #expect(bn.numBatchesTracked.item == 2)
        let copy = bn.deepCopy()
        #expect(copy.runningMean.scalars == bn.runningMean.scalars && copy.numBatchesTracked.item == 2)
    }

    @Test func poolingLayers() {
        let x = testTensor([2, 3, 6, 6], seed: 15, requiresGrad: false)
        #expect(MaxPool2D(kernelSize: 2)(x).scalars == x.maxPool2d(kernelSize: 2).scalars)
        #expect(MaxPool2D(kernelSize: 3, stride: 2, padding: 1)(x).shape == [2, 3, 3, 3])
        #expect(AvgPool2D(kernelSize: 3, stride: 1, padding: 1)(x).scalars == x.avgPool2d(kernelSize: 3, stride: 1, padding: 1).scalars)
        #expect(GlobalAvgPool()(x).shape == [2, 3])
        #expect((MaxPool2D(kernelSize: 3, stride: 2).deepCopy() as MaxPool2D).stride == 2)
    }

    /// `Pool2D` reduces by its kind; the max and average layers are its two kinds and keep their type and settings
    /// through a deep copy.
    @Test func pool2DLayersShareOneImplementation() {
        let x = testTensor([2, 3, 7, 7], seed: 16, requiresGrad: false)
        #expect(Pool2D(.max, kernelSize: 3, stride: 2, padding: 1)(x).scalars == x.maxPool2d(kernelSize: 3, stride: 2, padding: 1).scalars)
        #expect(Pool2D(.average, kernelSize: 2)(x).scalars == x.avgPool2d(kernelSize: 2).scalars)
        #expect(x.pool2d(.average, kernelSize: 3, stride: 1, padding: 1).scalars == x.avgPool2d(kernelSize: 3, stride: 1, padding: 1).scalars)
        #expect(MaxPool2D(kernelSize: 2).kind == .max && AvgPool2D(kernelSize: 2).kind == .average)
        let copy: AvgPool2D = AvgPool2D(kernelSize: 3, stride: 1, padding: 1).deepCopy()
        #expect(copy.kind == .average && copy.kernelSize == 3 && copy.stride == 1 && copy.padding == 1)
        let plain: Pool2D = Pool2D(.max, kernelSize: 4).deepCopy()
        #expect(plain.kind == .max && plain.stride == 4)
    }
}
