/// Averages an optimizer's gradients over the ranks of a data-parallel group before each update
/// (`Optimizer.gradientAveraging`).
///
/// The gradients are packed into one reused buffer behind one presence flag per parameter, reduced in buckets of
/// `bucketSize` values, and divided by the rank count. A parameter receives the average when any rank had a
/// gradient for it (a rank without one counts zeros) and stays without one when none had, so `Optimizer.step` skips
/// the same parameters on every rank, as it does in one process. Reduction runs after the backward pass, not
/// overlapped with it: measured on 2 cores over shared memory (notebook 05), the allreduce of ResNet18's gradients is
/// about 1 % of a step at 150x150 and every core is busy with the backward pass, so an overlap has little to hide.
public final class GradientAveraging {
    public let group: DataParallelGroup
    /// Values per reduction call.
    public let bucketSize: Int
    /// Seconds spent reducing gradients (part of `group.communicationSeconds`).
    public private(set) var seconds: Double = 0
    private var buffer: [Float] = []

    public init(group: DataParallelGroup, bucketSize: Int = 1 << 22) {
        precondition(bucketSize > 0, "bucket size must be positive")
        self.group = group
        self.bucketSize = bucketSize
    }

    /// Replaces each parameter's gradient by its mean over the ranks (a collective: every rank calls it with the
    /// same parameter list).
    public func average(_ parameters: [Tensor]) {
        guard group.isDistributed else { return }
        let total = parameters.count + parameters.reduce(0) { $0 + $1.count }
        if buffer.count != total { buffer = [Float](repeating: 0, count: total) }
        var offset = parameters.count
        for (index, parameter) in parameters.enumerated() {
            let n = parameter.count
            if let gradient = parameter.grad {
                buffer[index] = 1
                gradient.scalars.withUnsafeBufferPointer { g in
                    let reduced = group.communicationSeconds
        defer { seconds += group.communicationSeconds - reduced }
        buffer.withUnsafeMutableBufferPointer { b in
                        b.baseAddress!.advanced(by: offset).update(from: g.baseAddress!, count: n)
                    }
                }
            } else {
                buffer[index] = 0
                let reduced = group.communicationSeconds
        defer { seconds += group.communicationSeconds - reduced }
        buffer.withUnsafeMutableBufferPointer { b in b.baseAddress!.advanced(by: offset).update(repeating: 0, count: n) }
            }
            offset += n
        }
        let reduced = group.communicationSeconds
        defer { seconds += group.communicationSeconds - reduced }
        buffer.withUnsafeMutableBufferPointer { b in
            for start in stride(from: 0, to: total, by: bucketSize) {
                group.sum(UnsafeMutableBufferPointer(rebasing: b[start..<min(start + bucketSize, total)]))
            }
        }
        let scale = 1 / Float(group.size)
        offset = parameters.count
        for (index, parameter) in parameters.enumerated() {
            let n = parameter.count
            if buffer[index] > 0 {
                // into this rank's gradient storage when it has one (no allocation per step), else a new gradient
                let gradient = parameter.grad ?? Tensor.zeros(parameter.shape)
                gradient.scalars.withUnsafeMutableBufferPointer { g in
                    buffer.withUnsafeBufferPointer { b in
                        for i in 0..<n { g[i] = b[offset + i] * scale }
                    }
                }
                parameter.grad = gradient
            }
            offset += n
        }
    }
}
