import Backbones
import Core
import Lensing

/// Self-ensembling for visual domain adaptation (French, Mackiewicz, Fisher, ICLR 2018).
///
/// A student network is trained on labelled source images (flips + Gaussian blur,
/// `TrainingAugmentations.selfEnsembleSource`) and, on target images, to agree with an EMA teacher (`EMATeacher`: an
/// exponential moving average of the student's parameters only, decay `emaDecay`, 0.99 by default) that sees a
/// differently flipped copy. Per iteration:
///
///     L = CE(student(x_s), y_s) + w_u * (consistency + w_cb * maskRate * classBalance)
///
/// with `w_u = 3`, `w_cb = 0.005`. Source and target batches go through the student in separate passes, and the
/// teacher runs in training mode on the target batch, so each network normalises target images with target batch
/// statistics (the paper's separate source and target batches); the teacher's running statistics are therefore
/// target statistics. `consistency` is the squared difference of student and teacher class probabilities (mean over
/// classes), averaged over the target batch with a mask keeping only samples whose teacher confidence exceeds
/// 0.96837722; `classBalance` is the binary cross-entropy between the student's mean target prediction per class and
/// the uniform `1/C`, scaled by the mask's rate as in the paper. (The reference package swapped its arguments, making
/// it a constant with zero gradient.) Prediction uses the teacher. Adam at `learningRate` from scratch, or
/// `fineTuningLearningRate` with cosine decay when started from the source model.
public final class SelfEnsemble: UDAMethod {
    public let name = "self-ensemble"
    public let student: EncoderClassifier
    public let teacher: EMATeacher<EncoderClassifier>
    public let optimizer: Adam
    private let optimizerSettings: OptimizerSettings
    private let hyperparameters: Hyperparameters
    private let startsFromSource: Bool

    /// - Parameters:
    ///   - settings: Adam's learning rates (`learningRate` from scratch, `fineTuningLearningRate` from the source model)
    ///     and weight decay.
    ///   - startsFromSource: whether the networks start from a trained source model (`start(from:)`).
    public init(encoder: Backbone, classCount: Int, seed: UInt64,
                optimizerSettings settings: OptimizerSettings = OptimizerSettings(),
                hyperparameters: Hyperparameters = Hyperparameters(), startsFromSource: Bool = false) {
        student = EncoderClassifier(encoder: encoder,
                                    classifier: ClassifierHead(featureCount: encoder.featureCount, classCount: classCount, seed: seed))
        teacher = EMATeacher(student: student, decay: hyperparameters.emaDecay)
        optimizer = Adam(parameters: student.trainableParameters(), learningRate: settings.learningRate,
                         weightDecay: settings.weightDecay)
        optimizerSettings = settings
        self.hyperparameters = hyperparameters
        self.startsFromSource = startsFromSource
    }

    public var modules: [(name: String, module: Module)] { [("student", student), ("teacher", teacher.model)] }
    public var predictionModules: [(name: String, module: Module)] { [("teacher", teacher.model)] }
    public var predictor: EncoderClassifier { teacher.model }
    public var optimizers: [(name: String, optimizer: Optimizer)] { [("adam", optimizer)] }

    public func start(from source: EncoderClassifier) throws {
        try student.copyWeights(from: source)
        teacher.reset(to: student)
    }

    /// The confidence mask: true where the teacher's largest class probability exceeds `threshold`.
    /// `teacherProbabilities` is `[N, C]`.
    public static func confidenceMask(teacherProbabilities: Tensor, threshold: Float) -> [Bool] {
        let c = teacherProbabilities.shape[1]
        return (0..<teacherProbabilities.shape[0]).map { i in
            teacherProbabilities.scalars[(i * c)..<((i + 1) * c)].max()! > threshold
        }
    }

    /// Masked squared difference: `(1/N) sum_i m_i (1/C) sum_c (p_ic - q_ic)^2` for student probabilities `p`
    /// (differentiable) and teacher probabilities `q` (constant), both `[N, C]`.
    public static func consistencyLoss(studentProbabilities p: Tensor, teacherProbabilities q: Tensor, mask: [Bool]) -> Tensor {
        let n = p.shape[0]
        let m = Tensor(shape: [n, 1], scalars: mask.map { $0 ? 1 : 0 })
        return ((p - q.detached()) * (p - q.detached()) * m).mean()
    }

    /// French et al.'s class-balance loss: with `a_c` the student's mean probability of class `c` over the batch,
    /// `sum_c -( (1/C) log(a_c + eps) + (1 - 1/C) log(1 - a_c + eps) )`, `eps = 1e-6`. Its gradient is zero only at
    /// `a_c = 1/C`.
    public static func classBalanceLoss(studentProbabilities p: Tensor) -> Tensor {
        let c = p.shape[1]
        let average = p.mean(axes: [0])
        let t = 1 / Float(c), eps: Float = 1e-6
        let bce = -((average + eps).log() * t + (1 - average + eps).log() * (1 - t))
        return bce.sum()
    }

    /// `consistency + w_cb * maskRate * classBalance` for student probabilities (differentiable) and teacher
    /// probabilities (constant), both `[N, C]`, with the mask of teacher confidences above `threshold`.
    public static func unsupervisedLoss(studentProbabilities: Tensor, teacherProbabilities: Tensor, threshold: Float,
                                        classBalanceWeight: Float) -> (loss: Tensor, maskRate: Float) {
        let mask = confidenceMask(teacherProbabilities: teacherProbabilities, threshold: threshold)
        let maskRate = Float(mask.filter { $0 }.count) / Float(max(mask.count, 1))
        let consistency = consistencyLoss(studentProbabilities: studentProbabilities, teacherProbabilities: teacherProbabilities, mask: mask)
        let balance = classBalanceLoss(studentProbabilities: studentProbabilities)
        return (consistency + (classBalanceWeight * maskRate) * balance, maskRate)
    }

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        optimizer.learningRate = adaptationLearningRate(optimizerSettings, startsFromSource: startsFromSource,
                                                        iteration: context.iteration, totalIterations: context.totalIterations)
        student.train()
        teacher.model.train()
        let sourceImages = TrainingAugmentations.selfEnsembleSource(source.images, generator: &generator)
        let studentView = TrainingAugmentations.flips(target.images, generator: &generator)
        let teacherView = TrainingAugmentations.flips(target.images, generator: &generator)
        let supervised = crossEntropy(logits: student(sourceImages), labels: source.labels)
        let studentProbabilities = student(studentView).softmax(axis: 1)
        let teacherProbabilities = withoutGradient { teacher.model(teacherView).softmax(axis: 1) }
        let unsupervised = SelfEnsemble.unsupervisedLoss(
            studentProbabilities: studentProbabilities, teacherProbabilities: teacherProbabilities,
            threshold: hyperparameters.confidenceThreshold, classBalanceWeight: hyperparameters.classBalanceWeight)
        let loss = supervised + hyperparameters.unsupervisedWeight * unsupervised.loss
        minimize(loss, with: optimizer)
        teacher.update(from: student)
        return ["source_ce": supervised.item, "unsupervised": unsupervised.loss.item, "mask_rate": unsupervised.maskRate]
    }
}
