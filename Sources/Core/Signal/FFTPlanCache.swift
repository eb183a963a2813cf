import CFFTW
import Foundation

/// One axis of an FFTW guru layout: `count` points, `inputStride` and `outputStride` in elements
/// (floats for real arrays, complex pairs for complex arrays).
package struct FFTAxis: Hashable, Sendable {
    package var count: Int
    package var inputStride: Int
    package var outputStride: Int
    package init(count: Int, inputStride: Int, outputStride: Int) {
        self.count = count
        self.inputStride = inputStride
        self.outputStride = outputStride
    }
}

/// Which transform a plan computes. FFTW computes unnormalised sums: `forward` uses `exp(-2 pi i k n / N)`,
/// `backward` (and `complexToReal`) use `exp(+2 pi i k n / N)`.
package enum FFTKind: Hashable, Sendable {
    /// Complex to complex, `exp(-2 pi i k n / N)`.
    case forward
    /// Complex to complex, `exp(+2 pi i k n / N)`.
    case backward
    /// Real input, Hermitian half-spectrum output (`N/2 + 1` complex values along the last transform axis).
    case realToComplex
    /// Hermitian half-spectrum input, real output (unnormalised inverse of `realToComplex`).
    /// The imaginary parts of the zero and Nyquist bins are ignored.
    case complexToReal
}

/// The full description of a batched transform in FFTW's guru form: transform axes and batch ("howmany")
/// axes with their strides, out of place. Two descriptors that are equal share one plan.
package struct FFTDescriptor: Hashable, Sendable {
    package var kind: FFTKind
    package var dimensions: [FFTAxis]
    package var batch: [FFTAxis]
    package init(kind: FFTKind, dimensions: [FFTAxis], batch: [FFTAxis]) {
        precondition(!dimensions.isEmpty, "an FFT needs at least one transform axis")
        self.kind = kind
        self.dimensions = dimensions
        self.batch = batch
    }

    /// Floats the input array must hold (largest reachable index + 1, counted in floats).
    package var inputFloatCount: Int { span(input: true) * (kind == .realToComplex ? 1 : 2) }
    /// Floats the output array must hold.
    package var outputFloatCount: Int { span(input: false) * (kind == .complexToReal ? 1 : 2) }

    private func span(input: Bool) -> Int {
        var last = 0
        for (i, axis) in (dimensions + batch).enumerated() {
            var n = axis.count
            let isLastDim = i == dimensions.count - 1
            if isLastDim, (kind == .realToComplex && !input) || (kind == .complexToReal && input) { n = n / 2 + 1 }
            last += (n - 1) * (input ? axis.inputStride : axis.outputStride)
        }
        return last + 1
    }
}

/// An FFTW single-precision plan created once and reused; execution is thread-safe on distinct arrays.
///
/// Arrays passed to `execute` must be SIMD-aligned like the planning arrays (use `FFTBuffer`); misaligned
/// arrays are copied through aligned scratch automatically.
package final class FFTPlan: @unchecked Sendable {
    package let descriptor: FFTDescriptor
    let plan: fftwf_plan

    init(descriptor: FFTDescriptor, plan: fftwf_plan) {
        self.descriptor = descriptor
        self.plan = plan
    }

    deinit {
        // FFTW's planner (which destroy_plan touches) is not thread-safe: same lock as planning.
        FFTPlanCache.plannerLock.lock()
        fftwf_destroy_plan(plan)
        FFTPlanCache.plannerLock.unlock()
    }

    /// Runs the transform from `input` into `output` (out of place; `input` may be clobbered by
    /// `complexToReal` transforms of rank > 1).
    package func execute(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let aligned = fftwf_alignment_of(input) == 0 && fftwf_alignment_of(output) == 0
        if !aligned {
            let a = FFTBuffer(count: descriptor.inputFloatCount), b = FFTBuffer(count: descriptor.outputFloatCount)
            a.pointer.update(from: input, count: descriptor.inputFloatCount)
            execute(input: a.pointer, output: b.pointer)
            output.update(from: b.pointer, count: descriptor.outputFloatCount)
            return
        }
        switch descriptor.kind {
        case .forward, .backward:
            input.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { i in
                output.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { o in fftwf_execute_dft(plan, i, o) }
            }
        case .realToComplex:
            output.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { o in fftwf_execute_dft_r2c(plan, input, o) }
        case .complexToReal:
            input.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { i in fftwf_execute_dft_c2r(plan, i, output) }
        }
    }
}

/// A float array allocated with `fftwf_malloc` (SIMD-aligned), zero-initialised, freed on deinit.
package final class FFTBuffer: @unchecked Sendable {
    package let count: Int
    package let pointer: UnsafeMutablePointer<Float>
    package init(count: Int) {
        self.count = count
        let raw = fftwf_malloc(max(1, count) * MemoryLayout<Float>.stride)!
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }
    deinit { fftwf_free(pointer) }
    /// The contents as a buffer pointer.
    package var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}

/// The process-wide cache of FFTW plans, keyed by `FFTDescriptor`.
///
/// FFTW's planner is not thread-safe, so planning runs under one lock; a plan is created the first time a
/// descriptor is seen (with `FFTW_ESTIMATE`, microseconds for the small batched transforms used here) and
/// reused for the life of the process. Executing cached plans needs no lock.
package final class FFTPlanCache: @unchecked Sendable {
    /// The shared cache.
    package static let shared = FFTPlanCache()

    private let plans = LockedCache<FFTDescriptor, FFTPlan>()
    /// Serialises every call into FFTW's planner (planning and destroying plans), across all caches.
    static let plannerLock = NSLock()

    package init() {}

    /// Number of plans this cache has created (each descriptor is planned once).
    package var planCount: Int { plans.buildCount }

    /// The plan for `descriptor`, created on first use.
    package func plan(for descriptor: FFTDescriptor) -> FFTPlan {
        plans.value(for: descriptor) { Self.makePlan(descriptor) }
    }

    /// Forgets every cached plan (each is destroyed once its last user lets go of it); `planCount` is kept.
    /// Benchmarks of cold construction call this so planning is measured too.
    package func removeAll() { plans.removeAll() }

    private static func makePlan(_ descriptor: FFTDescriptor) -> FFTPlan {
        let input = FFTBuffer(count: descriptor.inputFloatCount)
        let output = FFTBuffer(count: descriptor.outputFloatCount)
        let dims = descriptor.dimensions.map {
            fftwf_iodim(n: Int32($0.count), is: Int32($0.inputStride), os: Int32($0.outputStride))
        }
        let batch = descriptor.batch.map {
            fftwf_iodim(n: Int32($0.count), is: Int32($0.inputStride), os: Int32($0.outputStride))
        }
        let flags = UInt32(FFTW_ESTIMATE)
        plannerLock.lock()
        defer { plannerLock.unlock() }
        let made: fftwf_plan? = dims.withUnsafeBufferPointer { d in
            batch.withUnsafeBufferPointer { b in
                let rank = Int32(d.count), howmany = Int32(b.count)
                switch descriptor.kind {
                case .forward, .backward:
                    let sign = descriptor.kind == .forward ? FFTW_FORWARD : FFTW_BACKWARD
                    return input.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { i in
                        output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { o in
                            fftwf_plan_guru_dft(rank, d.baseAddress, howmany, b.baseAddress, i, o, sign, flags)
                        }
                    }
                case .realToComplex:
                    return output.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { o in
                        fftwf_plan_guru_dft_r2c(rank, d.baseAddress, howmany, b.baseAddress, input.pointer, o, flags)
                    }
                case .complexToReal:
                    return input.pointer.withMemoryRebound(to: fftwf_complex.self, capacity: 1) { i in
                        fftwf_plan_guru_dft_c2r(rank, d.baseAddress, howmany, b.baseAddress, i, output.pointer, flags)
                    }
                }
            }
        }
        guard let made else { preconditionFailure("FFTW could not plan \(descriptor)") }
        return FFTPlan(descriptor: descriptor, plan: made)
    }

    /// A plan for `count` contiguous 1-D transforms of length `length` (the common row-wise case).
    /// Real arrays use row pitch `length` floats, half spectra `length/2 + 1` complex values.
    package func rowPlan(_ kind: FFTKind, length: Int, count: Int) -> FFTPlan {
        let half = length / 2 + 1
        let (inPitch, outPitch): (Int, Int)
        switch kind {
        case .forward, .backward: (inPitch, outPitch) = (length, length)
        case .realToComplex: (inPitch, outPitch) = (length, half)
        case .complexToReal: (inPitch, outPitch) = (half, length)
        }
        return plan(for: FFTDescriptor(
            kind: kind, dimensions: [FFTAxis(count: length, inputStride: 1, outputStride: 1)],
            batch: [FFTAxis(count: count, inputStride: inPitch, outputStride: outPitch)]))
    }
}
