import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct SubstructureStrengthTests {
    let simulator = LensSimulator(priors: .modelA, preset: .euclid64)

    @Test func smoothScenesHaveZeroDeltaChiSquared() {
        let values = SubstructureStrength.measure(simulator: simulator, label: .none, count: 4, seed: 1)
        #expect(values == [0, 0, 0, 0])
    }

    @Test func backgroundLimitedDeltaChiSquaredScalesWithSNRSquared() {
        // With Poisson noise negligible (huge counts), var = sigma_bg^2 = (peak / SNR)^2, so Delta chi^2 ~ SNR^2.
        let renderer = simulator.makeRenderer()
        for label in [SubstructureClass.cdm, .vortex] {
            var scene = simulator.scene(seed: 2, split: .train, index: label.rawValue)
            scene.countsPerUnit = 1e15
            scene.snr = 20
            let low = SubstructureStrength.deltaChiSquared(of: scene, renderer: renderer)
            scene.snr = 40
            let high = SubstructureStrength.deltaChiSquared(of: scene, renderer: renderer)
            #expect(low > 0)
            #expect(abs(high / low - 4) < 1e-6)
        }
    }

    @Test func heavierSubhalosAreMoreVisible() {
        var heavy = simulator
        heavy.priors.subhalos.massScale *= 4
        let light = SubstructureStrength.summarize(SubstructureStrength.measure(simulator: simulator, label: .cdm, count: 24, seed: 3))
        let strong = SubstructureStrength.summarize(SubstructureStrength.measure(simulator: heavy, label: .cdm, count: 24, seed: 3))
        #expect(strong.median > 2 * light.median)
    }

    @Test func summaryQuantilesInterpolateLinearly() {
        let s = SubstructureStrength.summarize([4, 1, 3, 2, 100], threshold: 3)
        #expect(s.median == 3 && s.lowerQuartile == 2 && s.upperQuartile == 4)
        #expect(s.fractionAbove == 0.4 && s.count == 5)
    }
}
