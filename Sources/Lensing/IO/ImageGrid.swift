import Core
import Foundation

/// An 8-bit grayscale raster, row-major.
public struct GrayImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// `width * height` bytes, row-major.
    public var pixels: [UInt8]

    /// Encodes as PNG and writes to `url`.
    public func writePNG(to url: URL) throws { try PNGWriter.write(gray: pixels, width: width, height: height, to: url) }
}

/// Tiles images into a grid for previews: each tile is scaled by its own min-max to 0...255, tiles are separated
/// by dark-gray gutters, and optional row labels are drawn in a left margin with a built-in 5x7 font.
public enum ImageGrid {
    /// Renders the first channel of images `[N, C, H, W]` (or `[N, H, W]`) row by row, `columns` per row.
    /// - Parameters:
    ///   - rowLabels: one label per grid row (e.g. the class of the row), drawn left of it; may be empty.
    ///   - padding: gutter width in pixels between tiles and around the grid.
    ///   - labelScale: integer magnification of the 5x7 font.
    public static func render(_ images: Tensor, columns: Int, rowLabels: [String] = [],
                              padding: Int = 2, labelScale: Int = 2) -> GrayImage {
        precondition(images.rank == 3 || images.rank == 4, "ImageGrid needs [N, H, W] or [N, C, H, W], got \(images.shape)")
        let n = images.shape[0], h = images.shape[images.rank - 2], w = images.shape[images.rank - 1]
        let stride = images.count / max(n, 1)
        let tiles = (0..<n).map { Array(images.scalars[($0 * stride)..<($0 * stride + h * w)]) }
        return render(tiles: tiles, height: h, width: w, columns: columns, rowLabels: rowLabels,
                      padding: padding, labelScale: labelScale)
    }

    /// Renders row-major `height x width` tiles; see `render(_:columns:rowLabels:padding:labelScale:)`.
    public static func render(tiles: [[Float]], height h: Int, width w: Int, columns: Int, rowLabels: [String] = [],
                              padding: Int = 2, labelScale: Int = 2) -> GrayImage {
        precondition(columns > 0 && h > 0 && w > 0, "ImageGrid: columns and tile size must be positive")
        precondition(tiles.allSatisfy { $0.count == h * w }, "ImageGrid: every tile needs \(h * w) values")
        let rows = max(1, (tiles.count + columns - 1) / columns)
        precondition(rowLabels.isEmpty || rowLabels.count == rows, "ImageGrid: \(rowLabels.count) labels for \(rows) rows")
        let margin = rowLabels.isEmpty ? 0 : (rowLabels.map { BitmapFont.width(of: $0, scale: labelScale) }.max() ?? 0) + 2 * padding
        let width = margin + columns * (w + padding) + padding
        let height = rows * (h + padding) + padding
        var canvas = [UInt8](repeating: 40, count: width * height)
        for (k, tile) in tiles.enumerated() {
            let x0 = margin + padding + (k % columns) * (w + padding), y0 = padding + (k / columns) * (h + padding)
            let finite = tile.filter { $0.isFinite }
            let bytes = PNGWriter.quantize(tile, low: finite.min() ?? 0, high: finite.max() ?? 1)
            for y in 0..<h {
                for x in 0..<w { canvas[(y0 + y) * width + x0 + x] = bytes[y * w + x] }
            }
        }
        for (r, label) in rowLabels.enumerated() {
            let y = padding + r * (h + padding) + (h - BitmapFont.glyphHeight * labelScale) / 2
            BitmapFont.draw(label, x: padding, y: y, scale: labelScale, value: 255, into: &canvas, canvasWidth: width)
        }
        return GrayImage(width: width, height: height, pixels: canvas)
    }
}
