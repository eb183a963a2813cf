import ArgumentParser
import Backbones
import Core
import Foundation
import Lensing

/// `deeplense features`: runs a backbone with given weights over `(N, 1, H, W)` images and writes `(N, D)` features.
public struct FeaturesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Compute backbone features (eval mode) for .npy images with weights from a safetensors file.")

    @Option(help: "Backbone name (see `deeplense backbones`).")
    var backbone: String
    @Option(help: "Backbone weights (.safetensors with the backbone's keys, e.g. from PyTorch's state_dict()).")
    var weights: String
    @Option(help: "Images, float (N,1,H,W) or (N,H,W) .npy.")
    var input: String
    @Option(help: "Output .npy: float32 (N, featureCount).")
    var out: String
    @Option(help: "Images per forward pass.")
    var batch: Int = 64

    public init() {}

    public func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        try requireKnownBackbone(backbone)
    }

    public func run() throws {
        try requireReadableFile(weights, option: "--weights")
        try requireReadableFile(input, option: "--input")
        try requireDistinct(output: out, outputOption: "--out", input: input, inputDescription: "the --input file")
        try requireDistinct(output: out, outputOption: "--out", input: weights, inputDescription: "the --weights file")
        try requireWritableFile(out, option: "--out")
        let images = try NpyArray(path: input)
        guard images.shape.count == 4 && images.shape[1] == 1 || images.shape.count == 3 else {
            throw CommandInputError("\(input): expected images of shape (N,1,H,W) or (N,H,W), found \(images.shape)")
        }
        let (n, h, w) = (images.shape[0], images.shape[images.shape.count - 2], images.shape[images.shape.count - 1])
        guard h > 0, w > 0 else { throw CommandInputError("\(input): images of \(h)x\(w) pixels have no pixels") }
        if let bad = images.firstNonFiniteFloat() {
            throw NpyError(file: input, reason: .nonFinitePixel(image: bad.item, value: "\(bad.value)"))
        }
        let model = try BackboneFactory.make(name: backbone)
        if model.requiresSquareInput, h != w {
            throw CommandInputError("\(backbone) needs square images, \(input) holds \(h)x\(w)")
        }
        let state = try Safetensors.read(from: URL(fileURLWithPath: weights))
        do {
            try model.load(stateDict: state)
        } catch let error as StateDictError {
            throw CommandInputError("--weights \(weights) does not fit \(backbone): \(error)")
        }
        model.eval()
        let outURL = URL(fileURLWithPath: out)
        let temporary = outURL.deletingLastPathComponent().appendingPathComponent(".\(outURL.lastPathComponent).partial-\(getpid())")
        defer { unlink(temporary.path) }
        let writer = try NpyStreamWriter(url: temporary, kind: .float32, shape: [n, model.featureCount])
        let bar = ProgressBar("features", total: n)
        for lo in stride(from: 0, to: n, by: batch) {
            let range = lo..<min(n, lo + batch)
            let x = Tensor(shape: [range.count, 1, h, w], scalars: images.floats(items: range))
            try writer.append(floats: withoutGradient { model(x) }.scalars)
            bar.advance(by: range.count)
        }
        bar.finish()
        try writer.finish(flushToDisk: true)
        guard rename(temporary.path, outURL.path) == 0 else {
            throw CommandInputError("--out \(out): \(String(cString: strerror(errno)))")
        }
        print("wrote \(n) x \(model.featureCount) features to \(out)")
    }
}
