import Core
import DomainAdaptation
import Testing

/// Deep Embedded Validation (You et al. 2019) against cases whose answer is known.
@Suite struct DeepEmbeddedValidationTests {
    /// With constant weights the control variate vanishes and the risk is the weighted mean loss.
    @Test func constantWeightsGiveTheMeanLoss() {
        let losses = [0.2, 0.9, 0.4]
        let risk = DeepEmbeddedValidation.controlVariateRisk(weightedLosses: losses, weights: [1, 1, 1])
        #expect(abs(risk - 0.5) < 1e-12)
    }

    /// `mean(L) + eta mean(w) - eta` with `eta = -Cov(L, w)/Var(w)`, by hand for two points.
    @Test func controlVariateByHand() {
        // w = (1, 3), L = (2, 6) (every loss is 2): Cov/Var = 4/2, eta = -2; risk = 4 + (-2)(2) + 2 = 2, the loss.
        let risk = DeepEmbeddedValidation.controlVariateRisk(weightedLosses: [2, 6], weights: [1, 3])
        #expect(abs(risk - 2) < 1e-12)
    }

    /// Source features near 0, target features near 3 on the first axis: validation points on the target side get
    /// large density ratios, so a loss that is high only there raises the risk above the plain mean, and
    /// indistinguishable domains give weights near 1.
    @Test func weightsFollowTheTargetDensity() {
        var g = SeededGenerator(seed: 5)
        func cloud(_ centre: Float, _ n: Int) -> [[Float]] { (0..<n).map { _ in [centre + Float(g.nextNormal()), Float(g.nextNormal())] } }
        let source = cloud(0, 300), target = cloud(3, 300)
        let validation = cloud(0, 50) + [[2.5, 0], [3, 0]]
        let losses = [Double](repeating: 0.1, count: 50) + [2, 2]
        let estimate = DeepEmbeddedValidation.estimate(sourceFeatures: source, targetFeatures: target,
                                                       validationFeatures: validation, validationLosses: losses)
        let plain = losses.reduce(0, +) / Double(losses.count)
        #expect(estimate.risk > 2 * plain)
        #expect(estimate.domainAccuracy > 0.9)
        let same = DeepEmbeddedValidation.estimate(sourceFeatures: cloud(0, 300), targetFeatures: cloud(0, 300),
                                                   validationFeatures: cloud(0, 50), validationLosses: [Double](repeating: 1, count: 50))
        #expect(abs(same.meanWeight - 1) < 0.25 && abs(same.risk - 1) < 0.25)
    }
}
