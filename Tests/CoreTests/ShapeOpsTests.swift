import Core
import TestSupport
import Testing

/// Naive permute by index arithmetic, as the reference for the fast paths.
func naivePermute(_ x: Tensor, _ perm: [Int]) -> [Float] {
    let shape = x.shape, outShape = perm.map { shape[$0] }
    var inStrides = [Int](repeating: 1, count: shape.count)
    for i in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
    var out: [Float] = []
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<x.count {
        var offset = 0
        for (i, p) in perm.enumerated() { offset += index[i] * inStrides[p] }
        out.append(x.scalars[offset])
        var a = shape.count - 1
        while a >= 0 { index[a] += 1; if index[a] < outShape[a] { break }; index[a] = 0; a -= 1 }
    }
    return out
}

@Suite struct ShapeOpsTests {
    @Test func transposeAndPermuteValues() {
        let m = arange([2, 3])
        let t = m.transposed()
        #expect(t.shape == [3, 2] && t.scalars == [0, 3, 1, 4, 2, 5])
        let x = arange([2, 3, 4])
        let p = x.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        // torch.arange(24).view(2,3,4).permute(2,0,1)[1] = [[1,5,9],[13,17,21]]
        #expect(Array(p.scalars[6..<12]) == [1, 5, 9, 13, 17, 21])
    }

    @Test func permuteMatchesNaiveOnEveryPath() {
        let cases: [([Int], [Int])] = [
            ([2, 3, 4, 5], [0, 2, 3, 1]),  // NCHW -> NHWC: batched transpose after merging H, W
            ([2, 3, 4, 5], [0, 3, 1, 2]),  // NHWC -> NCHW
            ([2, 3, 4, 5], [3, 1, 0, 2]),  // general strided walk
            ([2, 1, 4, 5], [1, 0, 3, 2]),  // extent-1 axis dropped
            ([70, 45], [1, 0]),            // partial tiles at both edges
            ([3, 4, 5], [0, 1, 2]),        // identity
            ([2, 3, 4], [-1, 0, 1]),
        ]
        for (shape, perm) in cases {
            let x = testTensor(shape, seed: 41, requiresGrad: false)
            let p = x.permuted(perm)
            let normalized = perm.map { $0 < 0 ? $0 + shape.count : $0 }
            #expect(p.shape == normalized.map { shape[$0] })
            #expect(p.scalars == naivePermute(x, normalized), "\(shape) \(perm)")
        }
    }

    @Test func largePermuteSplitOverThreadsMatchesNaive() {
        // NCHW -> NHWC on [4, 3, 100, 100]: 4 batched 3 x 10000 transposes, 1252 tiles spread over threads.
        let x = testTensor([4, 3, 100, 100], seed: 47, requiresGrad: false)
        #expect(x.permuted([0, 2, 3, 1]).scalars == naivePermute(x, [0, 2, 3, 1]))
    }

    @Test func reshapePermuteTransposeGradients() {
        let x = testTensor([2, 3, 4], seed: 42)
        #expect(gradientCheckError([x]) { $0[0].reshaped([4, -1]) } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].flattened() } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].permuted([2, 0, 1]) } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].permuted([0, 2, 1]) } < gradientTolerance)
        let m = testTensor([3, 5], seed: 43)
        #expect(gradientCheckError([m]) { $0[0].transposed() } < gradientTolerance)
    }

    @Test func concatSplitSliceValues() {
        let a = arange([2, 2]), b = Tensor(shape: [2, 1], scalars: [10, 11])
        let c = Tensor.concat([a, b], axis: 1)
        #expect(c.shape == [2, 3] && c.scalars == [0, 1, 10, 2, 3, 11])
        let r = Tensor.concat([a, a], axis: 0)
        #expect(r.shape == [4, 2] && r.scalars == [0, 1, 2, 3, 0, 1, 2, 3])
        let x = arange([2, 5])
        let parts = x.split(sizes: [2, 0, 3], axis: -1)
        #expect(parts.map(\.shape) == [[2, 2], [2, 0], [2, 3]])
        #expect(parts[0].scalars == [0, 1, 5, 6] && parts[2].scalars == [2, 3, 4, 7, 8, 9])
        let s = arange([3, 2, 2]).slice(axis: 0, range: 1..<3)
        #expect(s.shape == [2, 2, 2] && s.scalars == [4, 5, 6, 7, 8, 9, 10, 11])
    }

    @Test func concatSplitSliceGradients() {
        let a = testTensor([2, 3, 4], seed: 44), b = testTensor([2, 1, 4], seed: 45)
        let frozen = testTensor([2, 2, 4], seed: 46, requiresGrad: false)
        #expect(gradientCheckError([a, b]) { Tensor.concat([$0[0], frozen, $0[1]], axis: 1) } < gradientTolerance)
        #expect(gradientCheckError([a]) { Tensor.concat([$0[0], $0[0]], axis: 2) } < gradientTolerance)
        #expect(gradientCheckError([a]) { $0[0].slice(axis: 2, range: 1..<3) } < gradientTolerance)
        // Using two pieces of one split in one objective: both gradients land in the right places.
        #expect(gradientCheckError([a]) { t in
            let p = t[0].split(sizes: [1, 2], axis: 1)
            return p[0] * p[1].sum(axes: [1], keepingDims: true)
        } < gradientTolerance)
    }
}
