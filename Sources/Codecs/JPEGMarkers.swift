/// What dataprep needs from a JPEG's marker segments before the first scan: the EXIF orientation
/// (APP1) and whether an Adobe APP14 marker is present (it means CMYK samples are inverted).
///
/// Parsing is bounds-checked and never fails: a damaged segment is ignored and the defaults remain
/// (upright, no Adobe marker); the decoder reports damage to the image data itself.
struct JPEGMarkers {
    var orientation: Orientation = .up
    var hasAdobeMarker = false

    init(scanning data: UnsafeRawBufferPointer) {
        var i = 2  // after SOI
        while i + 4 <= data.count {
            guard data[i] == 0xFF else { return }
            let marker = data[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            if marker == 0xDA || marker == 0xD9 { return }  // start of scan / end of image
            let length = Int(data[i + 2]) << 8 | Int(data[i + 3])
            guard length >= 2, i + 2 + length <= data.count else { return }
            let segment = UnsafeRawBufferPointer(rebasing: data[(i + 4)..<(i + 2 + length)])
            if marker == 0xE1, let value = Self.exifOrientation(segment) {
                orientation = value
            } else if marker == 0xEE, segment.starts(with: Array("Adobe".utf8)) {
                hasAdobeMarker = true
            }
            i += 2 + length
        }
    }

    /// The orientation tag of IFD0 in an APP1 `Exif\0\0` segment, if present and valid.
    private static func exifOrientation(_ segment: UnsafeRawBufferPointer) -> Orientation? {
        let header: [UInt8] = Array("Exif".utf8) + [0, 0]
        guard segment.count >= header.count + 8, segment.starts(with: header) else { return nil }
        let tiff = UnsafeRawBufferPointer(rebasing: segment[header.count...])
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[at]), b = Int(tiff[at + 1])
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(littleEndian ? at : at + 2), let hi = u16(littleEndian ? at + 2 : at) else { return nil }
            return hi << 16 | lo
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for n in 0..<entries {
            let entry = ifd + 2 + 12 * n
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112, u16(entry + 2) == 3, let value = u16(entry + 8) {
                return Orientation(rawValue: value)
            }
        }
        return nil
    }
}
