import Core

/// The exponential-moving-average teacher of mean-teacher methods (Tarvainen & Valpola 2017; used by
/// Self-Ensemble, French et al. 2018): a copy of the student whose parameters follow
/// `theta_teacher <- a * theta_teacher + (1 - a) * theta_student` after every student step, with Mean Teacher's warm-up
/// `a = min(decay, 1 - 1/(t + 1))` after the student's `t`-th step: early on the teacher is the plain average of the
/// student's weights so far, not mostly its random initialisation (with `decay = 0.999` and a fixed `a`, 300 steps
/// still leave 74 % of the initial weights, and a short run's teacher predicts at chance). Buffers (batch-norm running
/// statistics) are copied from the student. The teacher never receives gradients.
public final class EMATeacher<Model: Module> {
    /// The teacher network (frozen, a deep copy of the student at creation).
    public let model: Model
    public let decay: Float

    public init(student: Model, decay: Float) {
        precondition(decay >= 0 && decay <= 1, "EMA decay must lie in [0, 1], got \(decay)")
        model = student.deepCopy()
        model.freeze()
        self.decay = decay
    }

    /// The EMA factor after the student's `studentSteps`-th step (1-based): `min(decay, 1 - 1/(studentSteps + 1))`.
    public func effectiveDecay(studentSteps: Int) -> Float {
        min(decay, 1 - 1 / Float(max(1, studentSteps) + 1))
    }

    /// Moves the teacher towards the student by one EMA step, taken after the student's `studentSteps`-th step.
    public func update(from student: Model, studentSteps: Int) {
        let mine = model.namedTensors(), theirs = student.namedTensors()
        precondition(mine.count == theirs.count, "EMA teacher and student differ in structure")
        let d = effectiveDecay(studentSteps: studentSteps)
        for (t, s) in zip(mine, theirs) {
            if t.isBuffer {
                t.tensor.assign(s.tensor.scalars)
                continue
            }
            s.tensor.scalars.withUnsafeBufferPointer { sv in
                t.tensor.scalars.withUnsafeMutableBufferPointer { v in
                    for i in 0..<v.count { v[i] = d * v[i] + (1 - d) * sv[i] }
                }
            }
        }
    }
}
