import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct SimulatorTests {
    @Test func psfConservesFluxAndHasTheRequestedWidth() {
        let size = 48
        let psf = GaussianPSFConvolver(size: size, maximumSigmaPixels: 3)
        var image = [Float](repeating: 0, count: size * size)
        image[24 * size + 24] = 1
        image[20 * size + 26] = 0.5
        image.withUnsafeMutableBufferPointer { psf.convolve($0, sigmaPixels: 2.0) }
        let total = image.reduce(0, +)
        // Float FFT round trip: relative rounding ~1e-6 per pixel.
        #expect(abs(total - 1.5) < 1e-5)
        var delta = [Float](repeating: 0, count: size * size)
        delta[24 * size + 24] = 1
        delta.withUnsafeMutableBufferPointer { psf.convolve($0, sigmaPixels: 2.0) }
        var second = 0.0
        for r in 0..<size { for c in 0..<size { second += Double(delta[r * size + c]) * Double((c - 24) * (c - 24)) } }
        // Pixel-integrated Gaussian: variance sigma^2 + 1/12 per axis.
        #expect(abs(second - (4 + 1.0 / 12)) < 1e-3)
        #expect(delta.allSatisfy { $0 > -1e-6 })
    }

    @Test func poissonSamplerHasPoissonMoments() {
        var g = SeededGenerator(seed: 7)
        for lambda in [0.7, 4.0, 35.0, 900.0] {
            let n = 40000
            let draws = (0..<n).map { _ in Double(PoissonSampler.sample(mean: lambda, &g)) }
            let mean = draws.reduce(0, +) / Double(n)
            let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            // 5 standard errors: se(mean) = sqrt(lambda/n), se(var) ~ lambda sqrt(2/n) (plus kurtosis 1/lambda).
            #expect(abs(mean - lambda) < 5 * (lambda / Double(n)).squareRoot())
            #expect(abs(variance - lambda) < 5 * lambda * ((2 + 1 / lambda) / Double(n)).squareRoot())
        }
    }

    @Test func noiseHasTheDocumentedMeanAndVariance() {
        let n = 60000, level: Float = 0.5
        var image = [Float](repeating: level, count: n)
        var g = SeededGenerator(seed: 11)
        let model = NoiseModel(snr: 25, countsPerUnit: 1000)
        let sigma = model.backgroundSigma(sourcePeak: 0.5)
        #expect(abs(sigma - 0.02) < 1e-15)
        image.withUnsafeMutableBufferPointer { model.apply(to: $0, backgroundSigma: sigma, generator: &g) }
        let mean = image.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = image.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n - 1)
        let expected = 0.5 / 1000 + sigma * sigma
        #expect(model.variance(intensity: 0.5, backgroundSigma: sigma) == expected)
        #expect(abs(mean - 0.5) < 5 * (expected / Double(n)).squareRoot())
        #expect(abs(variance / expected - 1) < 5 * (2 / Double(n)).squareRoot())
    }

    @Test func subhaloFieldMatchesDirectSum() {
        let halos = [
            Subhalo(mass: 1e9, x: 0.3, y: -0.2, thetaE: 0.04, Rs: 0.2, rTrunc: 0.05),
            Subhalo(mass: 1e7, x: -0.5, y: 0.41, thetaE: 0.004, Rs: 0.03, rTrunc: 0.01),
            Subhalo(mass: 1e8, x: 1.1, y: 0.02, thetaE: 0.012),
        ]
        let tolerance = 1e-6
        let field = SubhaloField(subhalos: halos, tolerance: tolerance)
        let exact: [any MassProfile] = halos.map { h -> any MassProfile in
            if h.isTNFW { return TNFW(pointMassThetaE: h.thetaE, Rs: h.Rs, rTrunc: h.rTrunc, centerX: h.x, centerY: h.y) }
            return PointMass(thetaE: h.thetaE, centerX: h.x, centerY: h.y)
        }
        let xs = (0..<61).map { -1.5 + 0.05 * Double($0) + 0.0123 }
        var ax = [Double](repeating: 0, count: xs.count), ay = ax
        for rowY in [-0.2, 0.4, 0.05] {
            for i in ax.indices { ax[i] = 0; ay[i] = 0 }
            xs.withUnsafeBufferPointer { p in
                field.accumulate(rowY: rowY, xs: p.baseAddress!, count: xs.count, alphaX: &ax, alphaY: &ay)
            }
            for (i, x) in xs.enumerated() {
                let direct = exact.reduce(SIMD2<Double>.zero) { $0 + $1.deflection(x: x, y: rowY) }
                // Each halo's far-field error is below `tolerance` by construction of its near-field radius.
                #expect(abs(ax[i] - direct.x) < 3 * tolerance && abs(ay[i] - direct.y) < 3 * tolerance)
            }
        }
    }

    @Test func simulationIsBitIdenticalAcrossThreadCounts() {
        // Thread counts are passed, not set on the process-wide `ComputeThreads.count`: tests run concurrently, and
        // changing the global here made other suites' bit-identical-resume checks flaky.
        let simulator = LensSimulator(priors: .modelB, preset: .euclid64)
        let one = simulator.simulateImages(0..<12, seed: 5, split: .train, threads: 1)
        let two = simulator.simulateImages(0..<12, seed: 5, split: .train, threads: 2)
        let tail = simulator.simulateImages(9..<12, seed: 5, split: .train)
        #expect(one == two)
        #expect(Array(one[(9 * 64 * 64)...]) == tail)
        #expect(one.allSatisfy { $0.isFinite })
        let test = simulator.simulateImages(0..<3, seed: 5, split: .test)
        #expect(Array(one[..<(3 * 64 * 64)]) != test)
    }

    @Test func renderedImageIsNormalisedAndLensed() {
        let simulator = LensSimulator(priors: .modelA, preset: .euclid64)
        let scene = simulator.scene(seed: 3, split: .train, index: 0)
        let renderer = simulator.makeRenderer()
        var image = [Float](repeating: 0, count: 64 * 64)
        var g = SeededGenerator(seed: 1)
        image.withUnsafeMutableBufferPointer { _ = renderer.render(scene, into: $0, generator: &g, noise: false) }
        #expect(abs((image.max() ?? 0) - 1) < 1e-6)
        // The arc of a theta_E = 1.2" SIS lies near the Einstein ring: mean brightness on the ring (r in
        // 0.9..1.5") exceeds the mean far outside (r > 2.5") by a large factor.
        var ring = 0.0, ringCount = 0.0, outer = 0.0, outerCount = 0.0
        for r in 0..<64 {
            for c in 0..<64 {
                let x = (Double(c) - 31.5) * 0.1, y = (Double(r) - 31.5) * 0.1
                let d = (x * x + y * y).squareRoot()
                if d > 0.9 && d < 1.5 { ring += Double(image[r * 64 + c]); ringCount += 1 }
                if d > 2.5 { outer += Double(image[r * 64 + c]); outerCount += 1 }
            }
        }
        #expect(ring / ringCount > 20 * outer / outerCount)
    }

    /// Gain and sky act after normalisation and noise: `gain * pixel + sky`, pixel by pixel.
    @Test func gainAndSkyLevelApplyAfterTheNoise() {
        let simulator = LensSimulator(priors: .modelA, preset: .euclid64)
        var scene = simulator.scene(seed: 3, split: .train, index: 1)
        let renderer = simulator.makeRenderer()
        var plain = [Float](repeating: 0, count: 64 * 64), observed = plain
        var g1 = SeededGenerator(seed: 2), g2 = SeededGenerator(seed: 2)
        plain.withUnsafeMutableBufferPointer { _ = renderer.render(scene, into: $0, generator: &g1) }
        scene.gain = 1.6
        scene.skyLevel = 0.3
        observed.withUnsafeMutableBufferPointer { _ = renderer.render(scene, into: $0, generator: &g2) }
        for (p, o) in zip(plain, observed) { #expect(abs(o - (1.6 * p + 0.3)) < 1e-5) }
    }
}
