// Test fixtures that need TurboJPEG directly (CMYK input, which the Codecs API deliberately does
// not offer). The only file outside Codecs that imports CTurboJPEG; it is test support, not product.
import CTurboJPEG

/// Builds JPEG files for tests.
public enum JPEGFixtures {
    /// A JPEG whose 0th IFD carries `orientation` (1–8): an APP1 Exif segment inserted after SOI.
    /// `bigEndian` chooses the TIFF byte order ("MM" instead of "II").
    public static func withEXIF(orientation: Int, in jpeg: [UInt8], bigEndian: Bool = false) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        tiff += u16(42) + u32(8)  // IFD0 right after the header
        tiff += u16(2)  // two entries: a decoy tag, then orientation
        tiff += u16(0x010F) + u16(2) + u32(4) + Array("ACM\0".utf8)  // Make, ASCII, inline
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)  // Orientation, SHORT
        tiff += u32(0)  // no next IFD
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }

    /// A YCCK JPEG (what TurboJPEG writes from CMYK input, with an Adobe APP14 marker) of flat
    /// `block`-pixel squares, one per entry of `inks`, in a row. Ink values follow libjpeg-turbo's
    /// inverted (Adobe) convention: 255 means no ink, 0 full ink.
    public static func ycck(inks: [(c: UInt8, m: UInt8, y: UInt8, k: UInt8)], block: Int = 16) -> [UInt8] {
        let width = block * inks.count, height = block
        var cmyk = [UInt8](repeating: 0, count: width * height * 4)
        for y in 0..<height {
            for x in 0..<width {
                let ink = inks[x / block], i = (y * width + x) * 4
                cmyk[i] = ink.c; cmyk[i + 1] = ink.m; cmyk[i + 2] = ink.y; cmyk[i + 3] = ink.k
            }
        }
        let handle = tjInitCompress()!
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = tjCompress2(
            handle, cmyk, Int32(width), 0, Int32(height), Int32(TJPF_CMYK.rawValue), &buffer, &size,
            Int32(TJSAMP_444.rawValue), 95, 0)
        precondition(rc == 0, String(cString: tjGetErrorStr2(handle)))
        defer { tjFree(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// The same file relabelled as plain CMYK: the Adobe marker's transform byte set from 2 (YCCK)
    /// to 0, so decoders read the stored components as inks without the YCC transform. With
    /// `dropAdobeMarker` the APP14 segment is removed instead of edited (plain, non-inverted CMYK).
    public static func relabelledAsCMYK(_ ycck: [UInt8], dropAdobeMarker: Bool = false) -> [UInt8] {
        var out = ycck
        var i = 2
        while i + 4 <= out.count, out[i] == 0xFF, out[i + 1] != 0xDA {
            let length = Int(out[i + 2]) << 8 | Int(out[i + 3])
            if out[i + 1] == 0xEE {
                if dropAdobeMarker {
                    out.removeSubrange(i..<(i + 2 + length))
                } else {
                    out[i + 4 + 11] = 0  // "Adobe"(5) version(2) flags0(2) flags1(2) → transform
                }
                return out
            }
            i += 2 + length
        }
        preconditionFailure("no Adobe marker")
    }

    /// Decodes `jpeg` to raw 4-channel inks with TurboJPEG, as the reference for CMYK tests.
    public static func decodeInks(_ jpeg: [UInt8]) -> [UInt8] {
        let handle = tjInitDecompress()!
        defer { tjDestroy(handle) }
        var w: Int32 = 0, h: Int32 = 0, s: Int32 = 0, c: Int32 = 0
        precondition(tjDecompressHeader3(handle, jpeg, UInt(jpeg.count), &w, &h, &s, &c) == 0)
        var out = [UInt8](repeating: 0, count: Int(w * h * 4))
        precondition(tjDecompress2(handle, jpeg, UInt(jpeg.count), &out, w, 0, h, Int32(TJPF_CMYK.rawValue), 0) == 0)
        return out
    }
}
