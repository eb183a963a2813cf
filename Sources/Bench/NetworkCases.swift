import Backbones
import Core
import Lensing

/// Whole-network cases at batch 32: a training step (forward, cross-entropy on a 3-class head, backward, Adam) and
/// inference, for the backbones the comparison uses. FLOPs are 3x the forward count for a training step (forward,
/// input gradient, weight gradient), 1x for eval.
///   `<backbone>-train-<side>`, `resnet18-eval-150`
/// And simulation throughput: `simulate-<side>` renders 64 Model A images of the CDM class (SIS + shear, Poisson(25)
/// TNFW subhalos, Sersic source, 2x2 supersampling, Gaussian PSF, Poisson + Gaussian noise), the configuration
/// `bench/reference/lenstronomy_sim.py` renders with lenstronomy, split over `ComputeThreads.count` threads.
let networkBatch = 32

func trainStepCase(_ backbone: String, side: Int) -> BenchCase {
    let flops = (try? BackboneFactory.make(name: backbone)).flatMap { $0 as? FLOPCounting }?
        .forwardFLOPs(height: side, width: side)
    return BenchCase(name: "\(backbone)-train-\(side)", flops: flops.map { 3 * $0 * Double(networkBatch) }, images: networkBatch,
                     reportsPeakMemory: true) {
        let model = try! BackboneFactory.make(name: backbone, seed: 1)
        let head = ClassifierHead(featureCount: model.featureCount, classCount: 3)
        let optimizer = Adam(parameters: model.trainableParameters() + head.trainableParameters(), learningRate: 1e-3)
        let images = benchTensor([networkBatch, 1, side, side], seed: 5, requiresGrad: false)
        let labels = (0..<networkBatch).map { $0 % 3 }
        return {
            optimizer.zeroGrad()
            crossEntropy(logits: head(model(images)), labels: labels).backward()
            optimizer.step()
        }
    }
}

let networkCases: [BenchCase] = [
    trainStepCase("resnet18", side: 64), trainStepCase("resnet18", side: 150),
    trainStepCase("c8resnet", side: 64), trainStepCase("c8resnet", side: 150),
    BenchCase(name: "resnet18-eval-150",
              flops: ResNet18().forwardFLOPs(height: 150, width: 150) * Double(networkBatch), images: networkBatch,
              reportsPeakMemory: true) {
        let model = ResNet18(seed: 1)
        model.eval()
        let images = benchTensor([networkBatch, 1, 150, 150], seed: 6, requiresGrad: false)
        return { _ = withoutGradient { model(images) } }
    },
] + [150, 64].map { side in
    BenchCase(name: "simulate-\(side)", images: simulateBatch) {
        let simulator = LensSimulator(priors: .modelA, preset: ImagePreset(size: side)!)
        let pixels = side * side
        var output = [Float](repeating: 0, count: simulateBatch * pixels)
        var round: UInt64 = 0
        return {
            round += 1
            let seed = round
            output.withUnsafeMutableBufferPointer { all in
                let base = all.baseAddress!
                parallelChunks(simulateBatch) { chunk in
                    let renderer = simulator.makeRenderer()
                    for k in chunk {
                        // image index 3k + 1 has class `cdm` (LensSimulator.label(ofIndex:))
                        let index = 3 * k + SubstructureClass.cdm.rawValue
                        simulator.render(seed: seed, split: .train, range: index..<(index + 1), renderer: renderer,
                                         into: UnsafeMutableBufferPointer(start: base + k * pixels, count: pixels))
                    }
                }
            }
        }
    }
}

/// Images per run of a `simulate-<side>` case.
let simulateBatch = 64
