// MARK: - Options and results

/// How ``ImageDecoder`` should decode.
public struct DecodeOptions: Sendable, Hashable {
    /// The pixel format to produce; `nil` keeps what the file holds (gray stays gray, colour becomes
    /// RGB, anything with alpha becomes RGBA).
    public var pixelFormat: PixelFormat?
    /// The smallest upright size the caller needs (upright even when `applyOrientation` is off:
    /// the EXIF orientation still decides which stored axis covers which). A JPEG is then decoded
    /// at the smallest DCT scale (1/8 … 1) whose output still covers it in both directions; PNG
    /// ignores it.
    public var minimumSize: PixelSize?
    /// Turn the pixels upright according to the EXIF orientation (JPEG). Default on.
    public var applyOrientation: Bool
    /// Return a truncated JPEG as a partial image with a ``DecodedImage/warning`` instead of
    /// throwing ``CodecError/Code/truncated``. Default off.
    public var acceptTruncated: Bool
    /// The colour that alpha is composited on when `pixelFormat` has no alpha channel.
    public var background: RGBColor
    /// Use libjpeg-turbo's fast integer DCT (slightly less accurate) instead of the accurate one.
    public var fastDCT: Bool
    /// Images declaring more pixels than this throw ``CodecError/Code/tooLarge`` before anything
    /// is allocated. Defaults to PIL's limit, 178,956,970.
    public var maximumPixels: Int

    public init(
        pixelFormat: PixelFormat? = nil, minimumSize: PixelSize? = nil, applyOrientation: Bool = true,
        acceptTruncated: Bool = false, background: RGBColor = .white, fastDCT: Bool = false,
        maximumPixels: Int = 178_956_970
    ) {
        self.pixelFormat = pixelFormat
        self.minimumSize = minimumSize
        self.applyOrientation = applyOrientation
        self.acceptTruncated = acceptTruncated
        self.background = background
        self.fastDCT = fastDCT
        self.maximumPixels = maximumPixels
    }
}

/// What a file holds, read from its header.
public struct ImageInfo: Sendable, Hashable {
    public var format: ImageFormat
    /// Width as stored, before any EXIF orientation is applied.
    public var width: Int
    /// Height as stored, before any EXIF orientation is applied.
    public var height: Int
    /// Components stored per pixel: 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha or CMYK.
    public var channels: Int
    /// Bits per stored sample (8, or 16 for 16-bit PNG; palette and low-bit PNGs report 8).
    public var bitDepth: Int
    /// The stored colour model, e.g. `YCbCr 4:2:0`, `gray`, `CMYK`, `YCCK`, `RGBA`, `palette`.
    public var colorModel: String
    /// The EXIF orientation (`up` when absent or not JPEG).
    public var orientation: Orientation

    /// The size once turned upright.
    public var uprightSize: PixelSize {
        let stored = PixelSize(width: width, height: height)
        return orientation.swapsDimensions ? stored.transposed : stored
    }
}

/// A DCT scaling factor `numerator / denominator`, as libjpeg-turbo offers them (1/8 … 1).
public struct ScaleFactor: Hashable, Sendable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public static let one = ScaleFactor(numerator: 1, denominator: 1)

    public init(numerator: Int, denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// `dimension` scaled and rounded up, as libjpeg-turbo's `TJSCALED` does.
    public func scale(_ dimension: Int) -> Int { (dimension * numerator + denominator - 1) / denominator }

    public var description: String { "\(numerator)/\(denominator)" }
}

/// A decoded image and what was learned on the way.
public struct DecodedImage: Sendable {
    /// The pixels, upright unless ``DecodeOptions/applyOrientation`` was off.
    public var image: Image
    /// What the file holds.
    public var info: ImageInfo
    /// The DCT scale the JPEG was decoded at (`1/1` for PNG).
    public var scale: ScaleFactor
    /// A non-fatal problem the decoder reported (e.g. `Corrupt JPEG data: 3 extraneous bytes before
    /// marker 0xd9`, or truncation when accepted); the image is still usable.
    public var warning: String?
}

// MARK: - Decoder

/// Decodes JPEG and PNG data, recognised by its first bytes, into ``Image``s.
///
/// An `ImageDecoder` owns a TurboJPEG handle, which must never be used by two threads at once, so
/// the type is deliberately not `Sendable`: give each worker thread or task its own decoder.
/// Decoding is synchronous and CPU-bound.
public final class ImageDecoder {
    private var jpeg: JPEGDecompressor?

    public init() {}

    /// Decodes an image held in memory.
    /// - Throws: ``CodecError`` — `unknownFormat` or `unsupportedFormat` (naming the format found),
    ///   `truncated`, `corrupt`, `tooLarge`; never crashes on damaged input.
    public func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        switch ImageFormat(detecting: bytes) {
        case .jpeg:
            if jpeg == nil { jpeg = try JPEGDecompressor() }
            return try jpeg!.decode(bytes, options: options)
        case .png:
            return try PNGCodec.decode(bytes, options: options)
        case .unknown:
            let head = bytes.prefix(4).map { "0x" + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            throw CodecError(
                .unknownFormat,
                bytes.isEmpty
                    ? "the data is empty"
                    : "not a known image format (starts with \(head)); dataprep decodes JPEG and PNG")
        case let format:
            throw CodecError(.unsupportedFormat, "\(format) images are not supported; dataprep decodes JPEG and PNG")
        }
    }

    /// Decodes an image held in a byte array.
    /// - Throws: ``CodecError``, as ``decode(_:options:)-(UnsafeRawBufferPointer,_)``.
    public func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        try bytes.withUnsafeBytes { try decode($0, options: options) }
    }

    /// Reads and decodes the file at `path`; errors carry the path.
    /// - Throws: ``CodecError`` — `readFailed` when the file cannot be read, otherwise as
    ///   ``decode(_:options:)-(UnsafeRawBufferPointer,_)``.
    public func decode(fileAt path: String, options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        do {
            return try decode(try readFile(at: path), options: options)
        } catch let error as CodecError {
            throw error.at(path)
        }
    }
}
