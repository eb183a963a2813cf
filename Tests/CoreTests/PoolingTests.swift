import Core
import TestSupport
import Testing

/// Float64 pooling reference: max ignores padding, average divides by k^2 (count_include_pad=True).
private func naivePool(_ x: Tensor, k: Int, s: Int, p: Int, max useMax: Bool) -> [Double] {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var out: [Double] = []
    for plane in 0..<(n * c) { for oy in 0..<ho { for ox in 0..<wo {
        var best = -Double.infinity, total = 0.0
        for i in 0..<k { for j in 0..<k {
            let iy = oy * s - p + i, ix = ox * s - p + j
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            let v = Double(x.scalars[(plane * h + iy) * w + ix])
            best = Swift.max(best, v)
            total += v
        } }
        out.append(useMax ? best : total / Double(k * k))
    } } }
    return out
}

/// A tensor whose values are a shuffled ladder 0.1 apart, so a finite-difference step of 1e-3 never changes
/// which element wins a max-pool window (the max is differentiable there).
private func distinctTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    let n = shape.reduce(1, *)
    var generator = SeededGenerator(seed: seed)
    let order = (0..<n).shuffled(using: &generator)
    return Tensor(shape: shape, scalars: order.map { Float($0) * 0.1 - Float(n) * 0.05 }, requiresGrad: true)
}

@Suite struct PoolingTests {
    // (n, c, h, w, kernel, stride, padding)
    static let shapes = [(2, 3, 8, 8, 2, 2, 0), (2, 2, 9, 7, 3, 2, 1), (1, 3, 10, 11, 3, 1, 1),
                         (3, 2, 7, 8, 3, 3, 0), (2, 2, 12, 12, 5, 2, 2), (2, 1, 75, 75, 3, 2, 1), (1, 2, 40, 37, 3, 1, 1)]

    /// Max is exact; an average of at most 25 floats differs from float64 by ~1e-7 relative.
    @Test(arguments: shapes)
    func forwardMatchesFloat64Reference(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
        let (n, ch, h, w, k, s, p) = c
        let x = testTensor([n, ch, h, w], seed: 61, requiresGrad: false)
        let mp = x.maxPool2d(kernelSize: k, stride: s, padding: p)
        let ap = x.avgPool2d(kernelSize: k, stride: s, padding: p)
        #expect(mp.shape == [n, ch, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1])
        #expect(mp.scalars == naivePool(x, k: k, s: s, p: p, max: true).map(Float.init))
        #expect(relativeError(ap.scalars, naivePool(x, k: k, s: s, p: p, max: false).map(Float.init)) < 1e-6)
    }

    /// Ties (values from {0, 1, 2}, as after a ReLU) route the gradient to the first maximum in row-major order, as
    /// PyTorch does; a plane holding NaN outputs NaN where a window sees it (and routes to it). Strides 1 and 2 run the
    /// 16-lane kernel, other strides the scalar scan: both must agree with this scan of every window.
    @Test(arguments: [(2, 3, 9, 8, 3, 2, 1), (1, 2, 7, 7, 2, 2, 0), (1, 1, 6, 5, 3, 1, 1)])
    func maxPoolTiesAndNaNFollowTheFirstMaximum(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
        let (n, ch, h, w, k, s, p) = c
        var g = SeededGenerator(seed: 5)
        var values = (0..<(n * ch * h * w)).map { _ in Float(Int(g.nextUniformDouble() * 3)) }
        values[(n * ch - 1) * h * w + w + 1] = .nan  // last plane, row 1, column 1
        let x = Tensor(shape: [n, ch, h, w], scalars: values, requiresGrad: true)
        let y = x.maxPool2d(kernelSize: k, stride: s, padding: p)
        let ho = y.shape[2], wo = y.shape[3]
        y.backward(Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 + 1) }))
        var expectedGrad = [Float](repeating: 0, count: values.count)
        for plane in 0..<(n * ch) { for oy in 0..<ho { for ox in 0..<wo {
            var best = -Float.infinity, index = -1
            for i in 0..<k { for j in 0..<k {
                let iy = oy * s - p + i, ix = ox * s - p + j
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                let flat = (plane * h + iy) * w + ix
                if index < 0 || values[flat] > best || values[flat].isNaN { best = values[flat]; index = flat }
            } }
            let o = (plane * ho + oy) * wo + ox
            #expect(y.scalars[o] == best || (y.scalars[o].isNaN && best.isNaN), "\(c) output \(o)")
            expectedGrad[index] += Float(o + 1)
        } } }
        #expect(x.grad!.scalars == expectedGrad, "\(c)")
    }

    @Test func strideDefaultsToKernelSize() {
        let x = testTensor([1, 1, 6, 6], seed: 62, requiresGrad: false)
        #expect(x.maxPool2d(kernelSize: 2).shape == [1, 1, 3, 3])
        #expect(x.avgPool2d(kernelSize: 3).scalars == x.avgPool2d(kernelSize: 3, stride: 3).scalars)
    }

    /// Finite differences: max and average pooling are linear in the input away from ties, so the error is
    /// pure float32 round-off (~1e-7 * |f| / eps = 1e-4 with eps 1e-3); 2e-3 leaves margin.
    @Test(arguments: [(2, 2, 7, 6, 3, 2, 1), (1, 2, 6, 6, 2, 2, 0), (2, 1, 8, 9, 3, 1, 1)])
    func gradientsMatchFiniteDifferences(_ c: (Int, Int, Int, Int, Int, Int, Int)) {
        let (n, ch, h, w, k, s, p) = c
        let x = distinctTensor([n, ch, h, w], seed: 63)
        #expect(gradientCheckError([x], epsilon: 1e-3) { $0[0].maxPool2d(kernelSize: k, stride: s, padding: p) } < 2e-3)
        let y = testTensor([n, ch, h, w], seed: 64)
        #expect(gradientCheckError([y]) { $0[0].avgPool2d(kernelSize: k, stride: s, padding: p) } < 2e-3)
    }

    @Test func overlappingMaxWindowsAccumulateGradient() {
        // 3x3 stride 1 on a 3x4 plane: the global maximum wins both windows and receives both gradients.
        let x = Tensor(shape: [1, 1, 3, 4], scalars: [0, 1, 2, 0, 0, 9, 3, 0, 0, 1, 2, 0], requiresGrad: true)
        x.maxPool2d(kernelSize: 3, stride: 1).sum().backward()
        #expect(x.grad!.scalars == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0])
    }

    @Test func globalAveragePoolMeansAndGradient() {
        let x = testTensor([3, 4, 5, 6], seed: 65)
        let y = x.globalAvgPool2d()
        #expect(y.shape == [3, 4])
        for plane in 0..<12 {
            let mean = x.scalars[(plane * 30)..<((plane + 1) * 30)].reduce(0.0) { $0 + Double($1) } / 30
            #expect(abs(Double(y.scalars[plane]) - mean) < 1e-6)
        }
        #expect(gradientCheckError([x]) { $0[0].globalAvgPool2d() } < 2e-3)
    }
}
