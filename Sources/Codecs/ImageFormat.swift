/// An image file format, recognised from the first bytes of the data (never from a file name).
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case jpeg, png
    case gif, bmp, webp, tiff, heif, avif, jpeg2000, jpegXL, ico, psd, qoi, pnm
    /// None of the signatures above.
    case unknown

    /// The conventional name, e.g. `JPEG`, `WebP`.
    public var description: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .gif: "GIF"
        case .bmp: "BMP"
        case .webp: "WebP"
        case .tiff: "TIFF"
        case .heif: "HEIF"
        case .avif: "AVIF"
        case .jpeg2000: "JPEG 2000"
        case .jpegXL: "JPEG XL"
        case .ico: "ICO"
        case .psd: "PSD"
        case .qoi: "QOI"
        case .pnm: "PNM"
        case .unknown: "unknown"
        }
    }

    /// Recognises the format from its signature (magic bytes).
    /// - Parameter bytes: the start of the data; 16 bytes are enough for every format here.
    public init(detecting bytes: UnsafeRawBufferPointer) {
        func starts(with signature: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + signature.count else { return false }
            return signature.indices.allSatisfy { bytes[offset + $0] == signature[$0] }
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(with: Array(text.utf8), at: offset) }

        if starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if ascii("GIF87a") || ascii("GIF89a") {
            self = .gif
        } else if ascii("BM") && bytes.count >= 14 {
            self = .bmp
        } else if ascii("RIFF") && ascii("WEBP", at: 8) {
            self = .webp
        } else if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            self = .tiff
        } else if ascii("ftyp", at: 4) && (ascii("avif", at: 8) || ascii("avis", at: 8)) {
            self = .avif
        } else if ascii("ftyp", at: 4)
            && ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].contains(where: { ascii($0, at: 8) })
        {
            self = .heif
        } else if starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A])
            || starts(with: [0xFF, 0x4F, 0xFF, 0x51])
        {
            self = .jpeg2000
        } else if starts(with: [0xFF, 0x0A])
            || starts(with: [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A])
        {
            self = .jpegXL
        } else if starts(with: [0x00, 0x00, 0x01, 0x00]) {
            self = .ico
        } else if ascii("8BPS") {
            self = .psd
        } else if ascii("qoif") {
            self = .qoi
        } else if bytes.count >= 3, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(bytes[1]),
            [0x20, 0x09, 0x0A, 0x0D].contains(bytes[2])
        {
            self = .pnm
        } else {
            self = .unknown
        }
    }
}
