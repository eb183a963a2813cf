import Core
import Foundation

/// A batch of simulated images: `images` holds `count` images of `size x size` floats in row-major
/// `(N, 1, H, W)` order, `labels` their `SubstructureClass` raw values.
public struct SimulatedBatch: Sendable {
    public var images: [Float]
    public var labels: [Int64]
    public var size: Int
    public var count: Int { labels.count }
    /// The shape of `images` as written to `.npy`: `[N, 1, H, W]`.
    public var shape: [Int] { [count, 1, size, size] }
}

/// Simulates a domain's images in parallel, deterministically.
///
/// Image `i` of a split has class `i % 3` (so classes are balanced to within one image) and uses its own
/// generator `SeededGenerator(seed: seed).derived(stream: streamOffset + i)`, with stream offsets separating
/// the domains and the splits. Its pixels are therefore a pure function of `(seed, domain, split, i)`:
/// the same bits for any `ComputeThreads.count`.
public struct LensSimulator: Sendable {
    public var priors: DomainPriors
    public var preset: ImagePreset
    public var supersampling: Int

    public init(priors: DomainPriors, preset: ImagePreset = .deepLense150, supersampling: Int = 2) {
        self.priors = priors
        self.preset = preset
        self.supersampling = supersampling
    }

    /// The random stream of image `index` of `split`.
    public func generator(seed: UInt64, split: DataSplit, index: Int) -> SeededGenerator {
        let domainBit: UInt64 = priors.name == "B" ? 1 << 41 : 0
        let splitBit: UInt64 = split == .test ? 1 << 40 : 0
        return SeededGenerator(seed: seed).derived(stream: domainBit | splitBit | UInt64(index))
    }

    /// The class of image `index`.
    public static func label(ofIndex index: Int) -> SubstructureClass {
        SubstructureClass(rawValue: index % SubstructureClass.allCases.count)!
    }

    /// The scene parameters of image `index` (the same draws `simulate` makes).
    public func scene(seed: UInt64, split: DataSplit, index: Int) -> LensScene {
        var g = generator(seed: seed, split: split, index: index)
        return priors.sampleScene(label: LensSimulator.label(ofIndex: index), generator: &g)
    }

    /// A renderer suited to this simulator (PSF padding for the widest PSF of the priors).
    public func makeRenderer() -> LensRenderer {
        LensRenderer(preset: preset, supersampling: supersampling, maximumPSFSigma: priors.psfSigma.upperBound)
    }

    /// Renders images `range` of `split` into `output` (`range.count * size * size` floats).
    public func render(seed: UInt64, split: DataSplit, range: Range<Int>, renderer: LensRenderer,
                       into output: UnsafeMutableBufferPointer<Float>) {
        let pixels = preset.size * preset.size
        precondition(output.count == range.count * pixels, "render: buffer of \(output.count) floats for \(range.count) images")
        for (k, index) in range.enumerated() {
            var g = generator(seed: seed, split: split, index: index)
            let scene = priors.sampleScene(label: LensSimulator.label(ofIndex: index), generator: &g)
            let slice = UnsafeMutableBufferPointer(rebasing: output[(k * pixels)..<((k + 1) * pixels)])
            renderer.render(scene, into: slice, generator: &g)
        }
    }

    /// Simulates `count` images of `split` over `ComputeThreads.count` threads. `progress` is called (from
    /// worker threads, possibly concurrently) with the number of images just finished.
    public func simulate(count: Int, seed: UInt64, split: DataSplit,
                         progress: (@Sendable (Int) -> Void)? = nil) -> SimulatedBatch {
        let images = simulateImages(0..<count, seed: seed, split: split, progress: progress)
        return SimulatedBatch(images: images, labels: labels(0..<count), size: preset.size)
    }

    /// The labels of images `range`.
    public func labels(_ range: Range<Int>) -> [Int64] {
        range.map { Int64(LensSimulator.label(ofIndex: $0).rawValue) }
    }

    /// The pixels of images `range` (`range.count * size * size` floats), rendered over `threads` threads
    /// (default `ComputeThreads.count`) in blocks of 8 images taken dynamically; each image's bits do not depend on
    /// the thread layout.
    public func simulateImages(_ range: Range<Int>, seed: UInt64, split: DataSplit, threads requested: Int? = nil,
                               progress: (@Sendable (Int) -> Void)? = nil) -> [Float] {
        let pixels = preset.size * preset.size
        let count = range.count
        var images = [Float](repeating: 0, count: count * pixels)
        let block = 8
        let blocks = (count + block - 1) / block
        images.withUnsafeMutableBufferPointer { all in
            let base = all.baseAddress!
            let threads = max(1, min(requested ?? ComputeThreads.count, blocks))
            let next = LockedValue(0)  // blocks are taken in turn; which thread renders one never changes its bits
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                let renderer = makeRenderer()
                while true {
                    let b = next.withLock { n in defer { n += 1 }; return n }
                    guard b < blocks else { break }
                    let local = (b * block)..<min(count, (b + 1) * block)
                    let out = UnsafeMutableBufferPointer(start: base + local.lowerBound * pixels, count: local.count * pixels)
                    let global = (range.lowerBound + local.lowerBound)..<(range.lowerBound + local.upperBound)
                    render(seed: seed, split: split, range: global, renderer: renderer, into: out)
                    progress?(local.count)
                }
            }
        }
        return images
    }
}
