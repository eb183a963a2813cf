import Core

/// The exponential-moving-average teacher of mean-teacher methods (Tarvainen & Valpola 2017; used by
/// Self-Ensemble, French et al. 2018): a copy of the student whose parameters follow
/// `theta_teacher <- decay * theta_teacher + (1 - decay) * theta_student` after every student step. Buffers (batch-norm
/// running statistics) are copied from the student. The teacher never receives gradients.
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

    /// Moves the teacher towards the student by one EMA step.
    public func update(from student: Model) {
        let mine = model.namedTensors(), theirs = student.namedTensors()
        precondition(mine.count == theirs.count, "EMA teacher and student differ in structure")
        let d = decay
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
