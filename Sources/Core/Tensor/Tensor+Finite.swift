extension Tensor {
    /// Whether every element is finite (no NaN, no infinity).
    public var isFinite: Bool { scalars.withUnsafeBufferPointer(allFinite) }
}

/// Whether every value is finite. `v * 0` is 0 for finite `v` and NaN otherwise, so one sum of such products over
/// 16 independent lanes tells (and vectorises, unlike a per-element branch).
public func allFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
    guard let base = values.baseAddress else { return true }
    let count = values.count, wide = count / 16 * 16
    var lanes = SIMD16<Float>()
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i < wide {
        lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) * 0
        i += 16
    }
    var tail: Float = lanes.sum()
    while i < count { tail += base[i] * 0; i += 1 }
    return tail == 0
}
