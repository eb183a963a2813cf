import Core
import Foundation
import Testing
@testable import Lensing

@Suite struct PNGWriterTests {
    @Test func checksumsMatchPublishedValues() {
        // CRC-32 check value of "123456789" (ISO 3309 / PNG) and Adler-32 of "Wikipedia" (RFC 1950 example).
        #expect(PNGWriter.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGWriter.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNGWriter.crc32(Array("IEND".utf8)) == 0xAE42_6082)
    }

    @Test func storedZlibStreamSplitsIntoBlocksAndRoundTrips() {
        let data = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let stream = PNGWriter.zlibStored(data)
        #expect(stream[0] == 0x78 && (UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31 == 0, "valid zlib header")
        var decoded: [UInt8] = [], p = 2, final = false
        while !final {
            final = stream[p] & 1 == 1
            #expect(stream[p] & 0b110 == 0, "stored block")
            let length = Int(stream[p + 1]) | Int(stream[p + 2]) << 8
            let complement = Int(stream[p + 3]) | Int(stream[p + 4]) << 8
            #expect(length ^ complement == 0xFFFF)
            decoded += stream[(p + 5)..<(p + 5 + length)]
            p += 5 + length
        }
        #expect(decoded == data)
        let adler = stream[p..<(p + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(adler == PNGWriter.adler32(data) && p + 4 == stream.count)
    }

    @Test func pngHasSignatureHeaderAndValidChunkCRCs() throws {
        let pixels: [UInt8] = [0, 64, 128, 255, 10, 20]
        let png = PNGWriter.encode(gray: pixels, width: 3, height: 2)
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var p = 8
        var types: [String] = []
        var idat: [UInt8] = []
        while p < png.count {
            let length = png[p..<(p + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[(p + 4)..<(p + 8)], as: UTF8.self)
            let body = Array(png[(p + 8)..<(p + 8 + length)])
            let crc = png[(p + 8 + length)..<(p + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(crc == PNGWriter.crc32(Array(type.utf8) + body), "CRC of \(type)")
            if type == "IHDR" { #expect(body == [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0]) }
            if type == "IDAT" { idat = body }
            types.append(type)
            p += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        // Rows are prefixed by filter type 0 inside a single stored block.
        #expect(Array(idat[7..<(7 + 8)]) == [0, 0, 64, 128, 0, 255, 10, 20])
    }

    @Test func quantizeMapsRangeAndClamps() {
        #expect(PNGWriter.quantize([-1, 0, 0.5, 1, 2, .nan], low: 0, high: 1) == [0, 0, 128, 255, 255, 0])
    }

    @Test func gridTilesImagesWithPerImageScalingAndLabels() throws {
        let a = (0..<16).map { Float($0) }, b = (0..<16).map { Float($0) * 100 - 7 }
        let images = Tensor(shape: [2, 1, 4, 4], scalars: a + b)
        let plain = ImageGrid.render(images, columns: 2, padding: 1)
        #expect(plain.width == 2 * 5 + 1 && plain.height == 4 + 2)
        for tile in 0..<2 {
            let x0 = 1 + tile * 5
            #expect(plain.pixels[1 * plain.width + x0] == 0, "each tile's minimum maps to black")
            #expect(plain.pixels[4 * plain.width + x0 + 3] == 255, "each tile's maximum maps to white")
        }
        let labelled = ImageGrid.render(images, columns: 1, rowLabels: ["CDM", "VORTEX"], padding: 1, labelScale: 1)
        #expect(labelled.height == 2 * 5 + 1)
        #expect(labelled.width == (6 * 6 - 1) + 2 + 4 + 2)
        #expect(labelled.pixels.contains(255))
        let url = makeTemporaryDirectory().appendingPathComponent("grid.png")
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try labelled.writePNG(to: url)
        #expect(try Data(contentsOf: url).count > labelled.pixels.count)
    }
}
