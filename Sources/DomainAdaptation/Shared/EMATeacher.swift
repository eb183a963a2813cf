import Core

/// The exponential-moving-average teacher of self-ensembling (French, Mackiewicz, Fisher, ICLR 2018, after Tarvainen &
/// Valpola's Mean Teacher, 2017): a copy of the student whose **parameters** follow
/// `theta_teacher <- a * theta_teacher + (1 - a) * theta_student` after every student step, with a constant decay `a`.
/// Buffers are not averaged or copied: the teacher's batch-norm running statistics are its own, updated only by its
/// own training-mode passes (on target batches in Self-Ensemble), so they are target statistics. The teacher never
/// receives gradients.
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

    /// Sets the teacher's parameters and buffers to the student's (at the start, after the student was initialised).
    public func reset(to student: Model) {
        for (t, s) in zip(model.namedTensors(), student.namedTensors()) { t.tensor.assign(s.tensor.scalars) }
    }

    /// Moves the teacher's parameters towards the student's by one EMA step; buffers are left alone.
    public func update(from student: Model) {
        let mine = model.namedTensors(), theirs = student.namedTensors()
        precondition(mine.count == theirs.count, "EMA teacher and student differ in structure")
        let d = decay
        for (t, s) in zip(mine, theirs) where !t.isBuffer {
            s.tensor.scalars.withUnsafeBufferPointer { sv in
                t.tensor.scalars.withUnsafeMutableBufferPointer { v in
                    for i in 0..<v.count { v[i] = d * v[i] + (1 - d) * sv[i] }
                }
            }
        }
    }
}
