import Core
import Lensing

/// The Lensing module's `.npy` data sets (`<prefix>_<split>_data.npy` / `_labels.npy`) as trainer input:
/// images `[N, 1, H, W]` read from the memory-mapped file per batch, un-normalised as in the reference.
extension DeepLenseDataset: LabeledImages {
    public var imageShape: [Int] { [1, height, width] }
    public var allLabels: [Int] { labels }

    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        (images(at: indices), indices.map { labels[$0] })
    }
}
