import Backbones
import Core
import Lensing

/// Self-ensembling for visual domain adaptation (French, Mackiewicz, Fisher, ICLR 2018).
///
/// A student network is trained on labelled source images (flips + Gaussian blur, `TrainingAugmentations.selfEnsembleSource`) and, on target images, to agree
/// with an EMA teacher (decay 0.999, with Mean Teacher's warm-up, see `EMATeacher`) that sees a differently augmented copy. Per iteration:
///
///     L = CE(student(x_s), y_s) + w_u * (consistency + w_cb * classBalance)
///
/// with `w_u = 3`, `w_cb = 0.005`; `consistency` is the squared difference of student and teacher class
/// probabilities (mean over classes), averaged over the target batch with a mask keeping only samples whose teacher
/// confidence exceeds 0.96837722; `classBalance` is the binary cross-entropy between the student's mean target
/// prediction per class and the uniform `1/C`, which pushes against collapsing onto one class. (The reference package
/// swapped its arguments, making it a constant with zero gradient.) Prediction uses the teacher.
public final class SelfEnsemble: UDAMethod {
    public let name = "self-ensemble"
    public let student: EncoderClassifier
    public let teacher: EMATeacher<EncoderClassifier>
    public let optimizer: Adam
    private let hyperparameters: Hyperparameters

    public init(encoder: Backbone, classCount: Int, seed: UInt64, hyperparameters: Hyperparameters = Hyperparameters()) {
        student = EncoderClassifier(encoder: encoder,
                                    classifier: ClassifierHead(featureCount: encoder.featureCount, classCount: classCount, seed: seed))
        teacher = EMATeacher(student: student, decay: hyperparameters.emaDecay)
        optimizer = Adam(parameters: student.trainableParameters(), learningRate: hyperparameters.learningRate,
                         weightDecay: hyperparameters.weightDecay)
        self.hyperparameters = hyperparameters
    }

    public var modules: [(name: String, module: Module)] { [("student", student), ("teacher", teacher.model)] }
    public var predictionModules: [(name: String, module: Module)] { [("teacher", teacher.model)] }
    public var optimizers: [(name: String, optimizer: Optimizer)] { [("adam", optimizer)] }

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

    public func step(source: (images: Tensor, labels: [Int]), target: TargetBatch, context: IterationContext,
                     generator: inout SeededGenerator) -> [String: Float] {
        student.train()
        let sourceImages = TrainingAugmentations.selfEnsembleSource(source.images, generator: &generator)
        let studentView = TrainingAugmentations.flips(target.images, generator: &generator)
        let teacherView = TrainingAugmentations.flips(target.images, generator: &generator)
        let supervised = crossEntropy(logits: student(sourceImages), labels: source.labels)
        let studentProbabilities = student(studentView).softmax(axis: 1)
        let teacherProbabilities = evaluate(teacher.model) { teacher.model(teacherView).softmax(axis: 1) }
        let mask = SelfEnsemble.confidenceMask(teacherProbabilities: teacherProbabilities,
                                               threshold: hyperparameters.confidenceThreshold)
        let consistency = SelfEnsemble.consistencyLoss(studentProbabilities: studentProbabilities,
                                                       teacherProbabilities: teacherProbabilities, mask: mask)
        let balance = SelfEnsemble.classBalanceLoss(studentProbabilities: studentProbabilities)
        let loss = supervised + hyperparameters.unsupervisedWeight * (consistency + hyperparameters.classBalanceWeight * balance)
        minimize(loss, with: optimizer)
        teacher.update(from: student, studentSteps: context.iteration + 1)
        return [
            "source_ce": supervised.item, "consistency": consistency.item, "class_balance": balance.item,
            "mask_rate": Float(mask.filter { $0 }.count) / Float(max(mask.count, 1)),
        ]
    }

    public func predict(_ images: Tensor) -> Tensor { evaluate(teacher.model) { teacher.model(images) } }
}
