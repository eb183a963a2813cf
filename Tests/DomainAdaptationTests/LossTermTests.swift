import Backbones
import Core
import DomainAdaptation
import Foundation
import Testing
import TestSupport

/// Loss terms of ADDA, Self-Ensemble and AdaMatch checked one by one against values computed by hand.
/// Float32 values of O(1) agree to about 1e-6 relative; tolerances are 1e-5.
@Suite struct LossTermTests {
    // MARK: ADDA

    /// A discriminator that returns its input features as the two domain logits, so the loss is plain cross-entropy.
    final class Identity: Layer {
        override func forward(_ x: Tensor) -> Tensor { x }
        override func makeCopy() -> Module { Identity() }
    }

    func ce(_ logits: [Float], _ label: Int) -> Float {
        let m = logits.max()!
        let lse = m + Foundation.log(logits.map { Foundation.exp($0 - m) }.reduce(0, +))
        return lse - logits[label]
    }

    @Test func addaDiscriminatorLossLabelsSourceZeroTargetOne() {
        let s = Tensor(shape: [2, 2], scalars: [2, -1, 0.5, 0.3])
        let t = Tensor(shape: [1, 2], scalars: [-0.2, 1.1])
        let loss = ADDA.discriminatorLoss(discriminator: Identity(), sourceFeatures: s, targetFeatures: t).item
        let expected = (ce([2, -1], 0) + ce([0.5, 0.3], 0) + ce([-0.2, 1.1], 1)) / 3
        #expect(abs(loss - expected) < 1e-5)
    }

    /// The logged discriminator accuracy counts source rows whose logit 0 wins and target rows whose logit 1 wins.
    @Test func addaDiscriminatorAccuracyCountsBothDomains() {
        let s = Tensor(shape: [2, 2], scalars: [2, -1, 0.3, 0.5])
        let t = Tensor(shape: [2, 2], scalars: [-0.2, 1.1, 0.9, 0.1])
        let outputs = ADDA.discriminatorOutputs(discriminator: Identity(), sourceFeatures: s, targetFeatures: t)
        #expect(outputs.accuracy == 50)
        let loss = ADDA.discriminatorLoss(discriminator: Identity(), sourceFeatures: s, targetFeatures: t).item
        #expect(outputs.loss.item == loss)
    }

    @Test func addaInvertedLabelLossCallsTargetSource() {
        let t = Tensor(shape: [2, 2], scalars: [-0.2, 1.1, 0.4, 0.0])
        let loss = ADDA.invertedLabelLoss(discriminator: Identity(), targetFeatures: t).item
        #expect(abs(loss - (ce([-0.2, 1.1], 0) + ce([0.4, 0], 0)) / 2) < 1e-5)
        // Gradient descent on the inverted loss moves target features towards the source logit.
        let x = Tensor(shape: [1, 2], scalars: [0, 0], requiresGrad: true)
        ADDA.invertedLabelLoss(discriminator: Identity(), targetFeatures: x).backward()
        #expect(x.grad!.scalars[0] < 0 && x.grad!.scalars[1] > 0)
    }

    // MARK: Self-Ensemble

    @Test func emaTeacherUpdate() {
        var g = SeededGenerator(seed: 1)
        let student = Linear(inputFeatures: 2, outputFeatures: 1, generator: &g)
        let teacher = EMATeacher(student: student, decay: 0.9)
        let before = teacher.model.weight.scalars
        student.weight.assign(student.weight.scalars.map { $0 + 1 })
        teacher.update(from: student)
        for (a, (b, s)) in zip(teacher.model.weight.scalars, zip(before, student.weight.scalars)) {
            #expect(abs(a - (0.9 * b + 0.1 * s)) < 1e-6)
        }
        #expect(!teacher.model.weight.requiresGrad)
    }

    /// French et al. average parameters only: the teacher's batch-norm buffers are its own, never copied or averaged.
    @Test func emaTeacherLeavesBuffersAlone() {
        let student = TinyBackbone(seed: 3)
        let teacher = EMATeacher(student: student, decay: 0.99)
        teacher.model.bn.runningMean.assign([Float](repeating: 7, count: 6))
        student.bn.runningMean.assign([Float](repeating: -2, count: 6))
        student.bn.runningVar.assign([Float](repeating: 5, count: 6))
        teacher.update(from: student)
        #expect(teacher.model.bn.runningMean.scalars == [Float](repeating: 7, count: 6))
        #expect(teacher.model.bn.runningVar.scalars == [Float](repeating: 1, count: 6))
    }

    /// The teacher runs in training mode on the target batch: its running statistics move from whatever they held
    /// towards that batch's statistics (momentum 0.1), exactly as a train-mode pass of the same view would.
    @Test func selfEnsembleTeacherNormalisesWithTargetBatchStatistics() {
        let method = SelfEnsemble(encoder: TinyBackbone(seed: 4), classCount: 3, seed: 5)
        let teacherBN = (method.teacher.model.encoder as! TinyBackbone).bn
        teacherBN.runningMean.assign([Float](repeating: 100, count: 6))
        let source = textureImages(count: 6, seed: 6).batch(Array(0..<6))
        let targetImages = textureImages(count: 6, seed: 7, contrast: 2, offset: 3).batch(Array(0..<6)).images
        var replay = SeededGenerator(seed: 8)
        _ = TrainingAugmentations.selfEnsembleSource(source.images, generator: &replay)
        _ = TrainingAugmentations.flips(targetImages, generator: &replay)
        let teacherView = TrainingAugmentations.flips(targetImages, generator: &replay)
        let probe = (method.teacher.model.encoder as! TinyBackbone).deepCopy()
        probe.bn.runningMean.assign([Float](repeating: 100, count: 6))
        probe.train()
        _ = withoutGradient { probe(teacherView) }
        var g = SeededGenerator(seed: 8)
        _ = method.step(source: source, target: TargetBatch(images: targetImages, indices: Array(0..<6)),
                        context: IterationContext(epoch: 0, iteration: 0, iterationsPerEpoch: 1, totalIterations: 1), generator: &g)
        for (a, b) in zip(teacherBN.runningMean.scalars, probe.bn.runningMean.scalars) { #expect(abs(a - b) < 1e-4) }
        #expect(teacherBN.runningMean.scalars.allSatisfy { $0 < 95 })
    }

    /// French et al. scale the class-balance term by the confidence mask's rate: with no confident teacher
    /// prediction the unsupervised loss is zero, with all confident it is consistency + w_cb * balance.
    @Test func selfEnsembleClassBalanceIsScaledByTheMaskRate() {
        let student = Tensor(shape: [2, 3], scalars: [0.2, 0.5, 0.3, 0.6, 0.1, 0.3], requiresGrad: true)
        let teacher = Tensor(shape: [2, 3], scalars: [0.98, 0.01, 0.01, 0.01, 0.01, 0.98])
        let none = SelfEnsemble.unsupervisedLoss(studentProbabilities: student, teacherProbabilities: teacher,
                                                 threshold: 0.99, classBalanceWeight: 0.005)
        #expect(none.maskRate == 0 && none.loss.item == 0)
        let all = SelfEnsemble.unsupervisedLoss(studentProbabilities: student, teacherProbabilities: teacher,
                                                threshold: 0.9, classBalanceWeight: 0.005)
        let expected = SelfEnsemble.consistencyLoss(studentProbabilities: student, teacherProbabilities: teacher, mask: [true, true]).item
            + 0.005 * SelfEnsemble.classBalanceLoss(studentProbabilities: student).item
        #expect(all.maskRate == 1 && abs(all.loss.item - expected) < 1e-6)
        let mixed = Tensor(shape: [2, 3], scalars: [0.98, 0.01, 0.01, 0.5, 0.3, 0.2])
        let half = SelfEnsemble.unsupervisedLoss(studentProbabilities: student, teacherProbabilities: mixed,
                                                 threshold: 0.9, classBalanceWeight: 0.005)
        let halfExpected = SelfEnsemble.consistencyLoss(studentProbabilities: student, teacherProbabilities: mixed, mask: [true, false]).item
            + 0.005 * 0.5 * SelfEnsemble.classBalanceLoss(studentProbabilities: student).item
        #expect(half.maskRate == 0.5 && abs(half.loss.item - halfExpected) < 1e-6)
    }

    @Test func confidenceMaskUsesThreshold() {
        let p = Tensor(shape: [3, 2], scalars: [0.97, 0.03, 0.5, 0.5, 0.01, 0.99])
        #expect(SelfEnsemble.confidenceMask(teacherProbabilities: p, threshold: 0.96837722) == [true, false, true])
        let student = Tensor(shape: [3, 2], scalars: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
        let loss = SelfEnsemble.consistencyLoss(studentProbabilities: student, teacherProbabilities: p,
                                                mask: [true, false, true]).item
        let expected: Float = ((0.47 * 0.47 + 0.47 * 0.47) + (0.49 * 0.49 + 0.49 * 0.49)) / 6
        #expect(abs(loss - expected) < 1e-5)
    }

    @Test func classBalanceHasNonZeroGradientAwayFromUniform() {
        let logits = Tensor(shape: [2, 3], scalars: [2, 0, 0, 1.5, 0.2, -1], requiresGrad: true)
        SelfEnsemble.classBalanceLoss(studentProbabilities: logits.softmax(axis: 1)).backward()
        let norm = logits.grad!.scalars.map { $0 * $0 }.reduce(0, +)
        #expect(norm > 1e-4)
        // Value: sum_c BCE(mean p_c, 1/3).
        let p = logits.softmax(axis: 1).scalars
        var expected: Float = 0
        for c in 0..<3 {
            let a = (p[c] + p[3 + c]) / 2
            expected -= (1.0 / 3) * Foundation.log(a + 1e-6) + (2.0 / 3) * Foundation.log(1 - a + 1e-6)
        }
        let value = SelfEnsemble.classBalanceLoss(studentProbabilities: logits.softmax(axis: 1)).item
        #expect(abs(value - expected) < 1e-5)
        // At the uniform mean prediction the gradient vanishes (the minimum).
        let uniform = Tensor(shape: [1, 3], scalars: [0, 0, 0], requiresGrad: true)
        SelfEnsemble.classBalanceLoss(studentProbabilities: uniform.softmax(axis: 1)).backward()
        #expect(uniform.grad!.scalars.allSatisfy { abs($0) < 1e-5 })
    }

    // MARK: AdaMatch

    @Test func distributionAlignmentUsesPerClassExpectationsAndSumsToOne() {
        let source = Tensor(shape: [2, 3], scalars: [0.6, 0.3, 0.1, 0.2, 0.5, 0.3])
        let target = Tensor(shape: [2, 3], scalars: [0.7, 0.2, 0.1, 0.5, 0.1, 0.4])
        let aligned = AdaMatch.alignDistribution(sourceProbabilities: source, targetProbabilities: target).scalars
        let ratio: [Float] = [0.4 / 0.6, 0.4 / 0.15, 0.2 / 0.25]
        for i in 0..<2 {
            let row = (0..<3).map { target.scalars[i * 3 + $0] * ratio[$0] }
            let total = row.reduce(0, +)
            for c in 0..<3 { #expect(abs(aligned[i * 3 + c] - row[c] / total) < 1e-5) }
            #expect(abs(aligned[(i * 3)..<(i * 3 + 3)].reduce(0, +) - 1) < 1e-5)
        }
        // Not a no-op (the reference package's bug): class 1 gains mass.
        #expect(aligned[1] > target.scalars[1])
    }

    @Test func relativeThresholdScalesMeanSourceConfidence() {
        let source = Tensor(shape: [2, 3], scalars: [0.6, 0.3, 0.1, 0.2, 0.5, 0.3])
        #expect(abs(AdaMatch.relativeThreshold(sourceProbabilities: source, tau: 0.9) - 0.9 * 0.55) < 1e-6)
    }

    @Test func warmupReachesOneAtHalfOfTheTrueStepCount() {
        #expect(adaMatchWarmup(step: 0, totalSteps: 100) == 0)
        #expect(abs(adaMatchWarmup(step: 25, totalSteps: 100) - 0.5) < 1e-6)
        #expect(adaMatchWarmup(step: 50, totalSteps: 100) == 1)
        #expect(adaMatchWarmup(step: 99, totalSteps: 100) == 1)
        let values = (0...50).map { adaMatchWarmup(step: $0, totalSteps: 100) }
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func frozenStatisticsPassLeavesRunningStatisticsUntouched() {
        let net = TinyBackbone(seed: 3)
        net.train()
        let before = net.bn.runningMean.scalars
        let images = testTensor([4, 1, 6, 6], seed: 2, requiresGrad: false)
        let out = net.withBatchNormMode(.batchStatistics) { net(images) }
        #expect(net.bn.runningMean.scalars == before)
        let updated = net(images)
        #expect(net.bn.runningMean.scalars != before)
        #expect(out.scalars == updated.scalars)
    }
}
