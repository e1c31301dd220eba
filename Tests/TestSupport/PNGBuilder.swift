/// Writes PNG files byte by byte (signature, IHDR, PLTE, tRNS, IDAT with stored deflate blocks,
/// IEND), so tests control every colour type and bit depth independently of libpng's writer.
public enum PNGBuilder {
    public enum ColorType: UInt8, Sendable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        var channels: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    /// A complete PNG file.
    /// - Parameters:
    ///   - samples: `width * height * channels` values, row-major, each < 2^bitDepth (palette
    ///     indices for `.palette`).
    ///   - palette: RGB triples for `.palette`.
    ///   - transparency: a tRNS chunk's payload (alpha per palette entry, or the transparent gray
    ///     or RGB value as 16-bit big-endian samples).
    public static func file(
        width: Int, height: Int, bitDepth: Int, colorType: ColorType, samples: [Int],
        palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8]? = nil
    ) -> [UInt8] {
        precondition(samples.count == width * height * colorType.channels)
        var raw: [UInt8] = []
        let perRow = width * colorType.channels
        for y in 0..<height {
            raw.append(0)  // filter: none
            let row = samples[(y * perRow)..<((y + 1) * perRow)]
            switch bitDepth {
            case 16: for v in row { raw += [UInt8(v >> 8), UInt8(v & 0xFF)] }
            case 8: raw += row.map { UInt8($0) }
            default:
                var byte = 0, used = 0
                for v in row {
                    byte = byte << bitDepth | v; used += bitDepth
                    if used == 8 { raw.append(UInt8(byte)); byte = 0; used = 0 }
                }
                if used > 0 { raw.append(UInt8(byte << (8 - used))) }
            }
        }
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += chunk("IHDR", be32(width) + be32(height) + [UInt8(bitDepth), colorType.rawValue, 0, 0, 0])
        if !palette.isEmpty { file += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if let transparency { file += chunk("tRNS", transparency) }
        file += chunk("IDAT", zlibStored(raw))
        file += chunk("IEND", [])
        return file
    }

    // MARK: - Container pieces

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    /// A zlib stream of uncompressed ("stored") deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        return out + be32(Int(b << 16 | a))
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
