import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct DomainTests {
    @Test func modelAKeepsRedshiftsSNRAndPSFFixed() {
        let sim = LensSimulator(priors: .modelA)
        for i in 0..<30 {
            let s = sim.scene(seed: 9, split: .train, index: i)
            #expect(s.lensRedshift == 0.5 && s.sourceRedshift == 1.0)
            #expect(s.snr == 25 && s.psfSigma == 0.1 && s.lensLight == nil)
            #expect(abs(s.mainLens.thetaE - 1.2) < 1e-9 && s.mainLens.axisRatio == 1)
            #expect(s.label == LensSimulator.label(ofIndex: i))
        }
    }

    /// The shifted domain keeps Model A's scenes (same draws, same lenses and labels) and changes only how they are
    /// observed; Model A's own scenes have gain 1 and no sky.
    @Test func shiftedModelAChangesOnlyObservingConditions() {
        let a = LensSimulator(priors: .modelA), shifted = LensSimulator(priors: DomainPriors.named("a-shifted")!)
        for i in 0..<12 {
            let s = a.scene(seed: 4, split: .train, index: i), t = shifted.scene(seed: 4, split: .train, index: i)
            #expect(s.gain == 1 && s.skyLevel == 0)
            #expect(t.gain == 1.6 && t.skyLevel == 0.3 && t.psfSigma == 0.15 && t.snr == 15)
            #expect(t.source.centerX == s.source.centerX && t.subhalos.count == s.subhalos.count && t.label == s.label)
        }
        let observed = DomainPriors.modelA.observed(psfSigma: 0.2, gain: 2)
        #expect(observed.psfSigma == .fixed(0.2) && observed.gain == .fixed(2) && observed.snr == DomainPriors.modelA.snr)
    }

    @Test func modelBVariesRedshiftsSNRPSFAndHasLensLight() {
        let sim = LensSimulator(priors: .modelB)
        let scenes = (0..<60).map { sim.scene(seed: 9, split: .train, index: $0) }
        #expect(Set(scenes.map(\.lensRedshift)).count == 60 && Set(scenes.map(\.snr)).count == 60)
        #expect(Set(scenes.map(\.psfSigma)).count == 60)
        let cosmology = DomainPriors.cosmology
        for s in scenes {
            #expect(s.sourceRedshift > s.lensRedshift && s.lensLight != nil)
            // Selected by Einstein radius: theta_E stays 1.2" and the lens mass follows the redshifts.
            #expect(abs(s.mainLens.thetaE - 1.2) < 1e-12)
            #expect(s.snr >= 15 && s.snr < 35 && s.psfSigma >= 0.07 && s.psfSigma < 0.13)
        }
        let unitRadii = scenes.map { cosmology.einsteinRadius(mass: 1, lensRedshift: $0.lensRedshift, sourceRedshift: $0.sourceRedshift) }
        #expect(Set(unitRadii).count == 60)
    }

    @Test func fingerprintChangesWithAnyPrior() {
        #expect(DomainPriors.modelA.fingerprint == DomainPriors.modelA.fingerprint)
        #expect(DomainPriors.modelA.fingerprint != DomainPriors.modelB.fingerprint)
        var changed = DomainPriors.modelB
        changed.snr = .uniform(15, 35.5)
        #expect(changed.fingerprint != DomainPriors.modelB.fingerprint)
    }

    @Test func mainLensScaleByMassOrByEinsteinRadiusAgree() {
        let cosmology = DomainPriors.cosmology
        let mass = cosmology.einsteinMass(thetaE: 1.2, lensRedshift: 0.5, sourceRedshift: 1.0)
        var byMass = DomainPriors.modelA
        byMass.mainLensScale = .mass(.fixed(mass))
        var byRadius = DomainPriors.modelA
        byRadius.mainLensScale = .einsteinRadius(.fixed(1.2))
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let a = byMass.sampleScene(label: .cdm, generator: &g1), b = byRadius.sampleScene(label: .cdm, generator: &g2)
        #expect(abs(a.mainLens.thetaE - b.mainLens.thetaE) < 1e-9)
        #expect(a.subhalos.count == b.subhalos.count)
        for (x, y) in zip(a.subhalos, b.subhalos) { #expect(abs(x.thetaE - y.thetaE) < 1e-9 * max(1e-3, x.thetaE)) }
    }

    @Test func classesHaveTheirSubstructure() {
        for priors in [DomainPriors.modelA, .modelB] {
            let sim = LensSimulator(priors: priors)
            var subhaloTotal = 0, cdmCount = 0
            for i in 0..<150 {
                let s = sim.scene(seed: 4, split: .test, index: i)
                switch s.label {
                case .none: #expect(s.subhalos.isEmpty && s.vortex == nil)
                case .cdm:
                    #expect(s.vortex == nil)
                    subhaloTotal += s.subhalos.count
                    cdmCount += 1
                    for h in s.subhalos {
                        let m = h.mass / priors.subhalos.massScale
                        #expect(m >= 1e6 * (1 - 1e-12) && m <= 1e10 * (1 + 1e-12) && h.isTNFW)
                        let r = ((h.x - s.mainLens.centerX) * (h.x - s.mainLens.centerX)
                            + (h.y - s.mainLens.centerY) * (h.y - s.mainLens.centerY)).squareRoot()
                        #expect(r >= 0.25 - 1e-12 && r <= 2.0 + 1e-12)
                    }
                case .vortex:
                    #expect(s.subhalos.isEmpty)
                    let v = try! #require(s.vortex)
                    #expect(v.length >= 0.06 - 1e-12 && v.length <= 6 + 1e-12)
                    #expect(s.vortexMass >= 1.5e10 && s.vortexMass <= 5e10 || s.vortexMass == 3e10)
                }
            }
            // Poisson(25) per image: the mean of 50 images is 25 +- 0.71 (1 sigma).
            #expect(abs(Double(subhaloTotal) / Double(cdmCount) - 25) < 3.5)
        }
    }

    @Test func subhaloMassFunctionHasTheRequestedSlope() {
        let population = SubhaloPopulation()
        var g = SeededGenerator(seed: 2)
        let n = 50000
        let above = (0..<n).filter { _ in population.sampleMass(&g) > 1e8 }.count
        // N(>m) / N for dN/dm ~ m^-1.9 on [1e6, 1e10]: (m^-0.9 - 1e10^-0.9) / (1e6^-0.9 - 1e10^-0.9).
        let expected = (pow(1e8, -0.9) - pow(1e10, -0.9)) / (pow(1e6, -0.9) - pow(1e10, -0.9))
        #expect(abs(Double(above) / Double(n) - expected) < 5 * (expected / Double(n)).squareRoot())
    }

    @Test func labelsAreBalancedAndPresetsHaveTheirGrids() {
        let sim = LensSimulator(priors: .modelA)
        let labels = sim.labels(0..<3000)
        for c in 0..<3 { #expect(labels.filter { $0 == Int64(c) }.count == 1000) }
        #expect(ImagePreset(size: 150) == .deepLense150 && ImagePreset.deepLense150.pixelScale == 0.05)
        #expect(ImagePreset(size: 64) == .euclid64 && ImagePreset.euclid64.fieldOfView == 6.4)
        #expect(ImagePreset(size: 100) == nil)
        #expect(DomainPriors.named("b") == .modelB && DomainPriors.named("C") == nil)
    }
}
