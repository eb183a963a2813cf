import Foundation

/// Writes 8-bit grayscale PNG images (W3C PNG specification, 2nd edition) with no dependency: the zlib stream
/// (RFC 1950) holds DEFLATE *stored* blocks (RFC 1951 section 3.2.4), so files are uncompressed but valid for
/// every viewer. Chunk checksums are CRC-32 (ISO 3309 polynomial 0xEDB88320); the zlib trailer is Adler-32.
public enum PNGWriter {
    /// PNG bytes for a `width x height` grayscale image given row-major, one byte per pixel.
    public static func encode(gray pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "PNG: \(pixels.count) pixels for \(width)x\(height)")
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw += pixels[(row * width)..<((row + 1) * width)]
        }
        var ihdr = [UInt8]()
        ihdr += bigEndian(UInt32(width))
        ihdr += bigEndian(UInt32(height))
        ihdr += [8, 0, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", ihdr)
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        return png
    }

    /// Writes a grayscale PNG file.
    public static func write(gray pixels: [UInt8], width: Int, height: Int, to url: URL) throws {
        do { try Data(encode(gray: pixels, width: width, height: height)).write(to: url) } catch {
            throw NpyError(file: url.path, reason: .writeFailed("\(error)"))
        }
    }

    /// Maps floats linearly from `low...high` to 0...255 (clamped; NaN becomes 0).
    public static func quantize(_ values: [Float], low: Float, high: Float) -> [UInt8] {
        let scale = high > low ? 255 / (high - low) : 0
        return values.map { v in
            let x = ((v - low) * scale).rounded()
            return x.isNaN ? 0 : UInt8(Swift.max(0, Swift.min(255, x)))
        }
    }

    /// A zlib stream of stored (uncompressed) DEFLATE blocks of at most 65,535 bytes each.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = Swift.min(65_535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        out += bigEndian(adler32(data))
        return out
    }

    /// Adler-32 (RFC 1950 section 8.2).
    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var index = 0
        while index < data.count {
            let end = Swift.min(data.count, index + 5_552)
            for i in index..<end {
                a &+= UInt32(data[i])
                b &+= a
            }
            a %= 65_521
            b %= 65_521
            index = end
        }
        return (b << 16) | a
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as used by PNG chunks and gzip.
    static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
