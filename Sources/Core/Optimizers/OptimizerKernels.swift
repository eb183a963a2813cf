/// Elementwise update kernels shared by the optimizers: eight lanes at a time (SIMD8 keeps `sqrt` and division
/// vectorised on baseline x86-64), split over the compute threads for large tensors. Every element's result
/// depends only on its own inputs, so results do not depend on the thread count.
enum OptimizerKernels {
    /// Below this many elements an update runs on the calling thread.
    static let parallelThreshold = 1 << 15

    /// Runs `body(range)` over `0..<count`, in parallel chunks when the tensor is large.
    @inline(__always)
    static func chunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count < parallelThreshold { body(0..<count) } else { parallelChunks(count, minimumChunk: parallelThreshold, body) }
    }

    /// One Adam/AdamW step over `count` elements (see `Adam` for the rule). `shrink` is AdamW's `1 - lr wd`
    /// (1 for Adam), `l2` Adam's coupled weight decay (0 for AdamW).
    static func adam(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                     expAvg m: UnsafeMutablePointer<Float>, expAvgSq v: UnsafeMutablePointer<Float>, count: Int,
                     shrink: Float, l2: Float, beta1: Float, beta2: Float, stepSize: Float, correction2: Float, epsilon: Float) {
        typealias V = SIMD8<Float>
        chunks(count) { range in
            var i = range.lowerBound
            let vb1 = V(repeating: beta1), vb2 = V(repeating: beta2), va1 = V(repeating: 1 - beta1), va2 = V(repeating: 1 - beta2)
            let vShrink = V(repeating: shrink), vL2 = V(repeating: l2), vStep = V(repeating: stepSize)
            let vC2 = V(repeating: correction2), vEps = V(repeating: epsilon)
            while i + 8 <= range.upperBound {
                let pj = UnsafeRawPointer(p + i).loadUnaligned(as: V.self) * vShrink
                let gj = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) + vL2 * pj
                let mj = vb1 * UnsafeRawPointer(m + i).loadUnaligned(as: V.self) + va1 * gj
                let vj = vb2 * UnsafeRawPointer(v + i).loadUnaligned(as: V.self) + va2 * gj * gj
                UnsafeMutableRawPointer(m + i).storeBytes(of: mj, as: V.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vj, as: V.self)
                let update = pj - vStep * (mj / (vj.squareRoot() / vC2 + vEps))
                UnsafeMutableRawPointer(p + i).storeBytes(of: update, as: V.self)
                i += 8
            }
            while i < range.upperBound {
                let pj = p[i] * shrink
                let gj = g[i] + l2 * pj
                let mj = beta1 * m[i] + (1 - beta1) * gj
                let vj = beta2 * v[i] + (1 - beta2) * gj * gj
                m[i] = mj
                v[i] = vj
                p[i] = pj - stepSize * (mj / (vj.squareRoot() / correction2 + epsilon))
                i += 1
            }
        }
    }

    /// One SGD step (see `SGD`); `buffer` is nil without momentum, `first` marks the step that initialises it.
    static func sgd(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                    buffer b: UnsafeMutablePointer<Float>?, count: Int, learningRate lr: Float, weightDecay wd: Float,
                    momentum mu: Float, dampening: Float, nesterov: Bool, first: Bool) {
        chunks(count) { range in
            guard let b else {
                for j in range { p[j] -= lr * (g[j] + wd * p[j]) }
                return
            }
            let damp = 1 - dampening
            for j in range {
                let d = g[j] + wd * p[j]
                let buf = first ? d : mu * b[j] + damp * d
                b[j] = buf
                p[j] -= lr * (nesterov ? d + mu * buf : buf)
            }
        }
    }

    /// `sum(x^2)` over `count` elements: float SIMD partial sums per block of 4096, accumulated in double.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = Swift.min(start + 4096, count)
            var acc = SIMD8<Float>()
            var i = start
            while i + 8 <= end {
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                acc += v * v
                i += 8
            }
            var block = Double(acc.sum())
            while i < end { block += Double(x[i]) * Double(x[i]); i += 1 }
            total += block
            start = end
        }
        return total
    }
}
