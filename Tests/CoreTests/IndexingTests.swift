import Core
import TestSupport
import Testing

@Suite struct IndexingTests {
    @Test func indexSelectValues() {
        let x = arange([3, 2])
        let rows = x.indexSelect(axis: 0, indices: [2, 0, 2])
        #expect(rows.shape == [3, 2] && rows.scalars == [4, 5, 0, 1, 4, 5])
        let cols = arange([2, 3, 2]).indexSelect(axis: 1, indices: [1])
        #expect(cols.shape == [2, 1, 2] && cols.scalars == [2, 3, 8, 9])
    }

    @Test func indexSelectGradientAccumulatesRepeats() {
        let x = Tensor(shape: [3, 2], scalars: [Float](repeating: 0, count: 6), requiresGrad: true)
        x.indexSelect(axis: 0, indices: [2, 0, 2]).sum().backward()
        #expect(x.grad!.scalars == [1, 1, 0, 0, 2, 2])
        let y = testTensor([2, 4, 3], seed: 51)
        #expect(gradientCheckError([y]) { $0[0].indexSelect(axis: 1, indices: [3, 1, 3, 0]) } < gradientTolerance)
        #expect(gradientCheckError([y]) { $0[0].indexSelect(axis: -1, indices: [2, 2]) } < gradientTolerance)
    }

    @Test func gatherValues() {
        // torch.gather(torch.arange(6.).view(2,3), 1, torch.tensor([[2],[0]])) -> [[2.],[3.]]
        let x = arange([2, 3])
        let g = x.gather(axis: 1, indices: [2, 0])
        #expect(g.shape == [2, 1] && g.scalars == [2, 3])
        // torch.gather(x, 0, torch.tensor([[1,0,1],[0,0,1]])) -> [[3,1,5],[0,1,5]]
        let g0 = x.gather(axis: 0, indices: [1, 0, 1, 0, 0, 1])
        #expect(g0.shape == [2, 3] && g0.scalars == [3, 1, 5, 0, 1, 5])
    }

    @Test func gatherGradient() {
        let x = testTensor([2, 3, 4], seed: 52)
        #expect(gradientCheckError([x]) { $0[0].gather(axis: 1, indices: [0, 2, 1, 1, 2, 2, 0, 1]) } < gradientTolerance)
        #expect(gradientCheckError([x]) { $0[0].gather(axis: 2, indices: (0..<12).map { $0 % 4 } + (0..<12).map { 3 - $0 % 4 }) } < gradientTolerance)
    }

    @Test func oneHotRows() {
        let h = Tensor.oneHot([2, 0, 1], classCount: 3)
        #expect(h.shape == [3, 3] && h.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        #expect(!h.requiresGrad)
    }
}
