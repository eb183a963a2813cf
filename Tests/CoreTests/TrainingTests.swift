import Core
import Foundation
import Testing

/// Synthetic 2-class images `[N, 1, 10, 10]`: a 5-pixel horizontal bar (class 0) or vertical bar (class 1) at a
/// random position on Gaussian noise (std 0.2).
private func barImages(count: Int, generator g: inout SeededGenerator) -> (images: Tensor, labels: [Int]) {
    let size = 10
    var pixels = g.normals(count * size * size, std: 0.2)
    var labels: [Int] = []
    for n in 0..<count {
        let label = g.nextInt(below: 2)
        labels.append(label)
        let along = g.nextInt(below: size - 4), across = g.nextInt(below: size)
        for k in 0..<5 {
            let (row, col) = label == 0 ? (across, along + k) : (along + k, across)
            pixels[n * size * size + row * size + col] += 1
        }
    }
    return (Tensor(shape: [count, 1, size, size], scalars: pixels), labels)
}

private func accuracy(_ logits: Tensor, _ labels: [Int]) -> Double {
    let predicted = logits.argmax(axis: 1)
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
}

@Suite struct TrainingTests {
    /// Conv2D, BatchNorm2D, ReLU, MaxPool2D, GlobalAvgPool and Linear trained with Adam and a one-cycle schedule;
    /// accuracy is measured on held-out images in evaluation mode (running statistics), then again after a
    /// safetensors round trip into a fresh model.
    @Test func smallCNNLearnsBarOrientation() throws {
        var g = SeededGenerator(seed: 2024)
        let model = Sequential([
            Conv2D(inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1, generator: &g),
            BatchNorm2D(featureCount: 8), ReLU(), MaxPool2D(kernelSize: 2),
            Conv2D(inputChannels: 8, outputChannels: 8, kernelSize: 3, padding: 1, generator: &g),
            BatchNorm2D(featureCount: 8), ReLU(),
            GlobalAvgPool(), Linear(inputFeatures: 8, outputFeatures: 2, generator: &g),
        ])
        let steps = 60, batch = 32
        let optimizer = Adam(parameters: model.trainableParameters(), learningRate: 0.01)
        let schedule = OneCycleLR(optimizer: optimizer, maxLearningRate: 0.02, totalSteps: steps)
        var data = g.derived(stream: 1)
        for _ in 0..<steps {
            let (x, y) = barImages(count: batch, generator: &data)
            optimizer.zeroGrad()
            crossEntropy(logits: model(x), labels: y).backward()
            optimizer.step()
            schedule.step()
        }
        var testData = g.derived(stream: 2)
        let (x, y) = barImages(count: 300, generator: &testData)
        model.eval()
        let logits = withoutGradient { model(x) }
        let score = accuracy(logits, y)
        #expect(score > 0.95, "held-out accuracy \(score)")

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(model.stateDict(), to: url)
        let restored = model.makeCopy() as! Sequential
        try restored.load(stateDict: try Safetensors.read(from: url))
        restored.eval()
        #expect(withoutGradient { restored(x) }.scalars == logits.scalars)
        #expect(restored.stateDict()["1.num_batches_tracked"]!.item == Float(steps))
    }
}
