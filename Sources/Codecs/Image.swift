/// The channel layout of an ``Image``: 8-bit samples, interleaved in this order.
public enum PixelFormat: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// One luma channel.
    case gray = 1
    /// Red, green, blue.
    case rgb = 3
    /// Red, green, blue, straight (not premultiplied) alpha.
    case rgba = 4

    /// Samples per pixel: 1, 3 or 4.
    public var channels: Int { rawValue }

    public var description: String {
        switch self {
        case .gray: "gray"
        case .rgb: "rgb"
        case .rgba: "rgba"
        }
    }
}

/// A width × height pair in pixels.
public struct PixelSize: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// The size with width and height exchanged (what a 90° turn gives).
    public var transposed: PixelSize { PixelSize(width: height, height: width) }

    public var description: String { "\(width)x\(height)" }
}

/// An 8-bit image: `height` rows of `width` pixels of `format.channels` samples, row-major and
/// interleaved (HWC), with no padding between rows.
///
/// `pixels` is an ordinary copy-on-write array: decoders write into it directly, and passing an
/// `Image` around never copies the samples unless one holder mutates them.
public struct Image: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    /// `width * height * format.channels` samples, row-major HWC.
    public var pixels: [UInt8]

    /// Wraps existing samples.
    /// - Precondition: `pixels.count == width * height * format.channels`, and both sides are > 0.
    public init(width: Int, height: Int, format: PixelFormat, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image size must be positive, got \(width)x\(height)")
        precondition(
            pixels.count == width * height * format.channels,
            "\(pixels.count) samples do not make a \(width)x\(height) \(format) image")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// An image whose samples are written by `initialize`, which must set every one of the
    /// `width * height * format.channels` bytes it is given. No zero-fill happens first.
    public init(
        width: Int, height: Int, format: PixelFormat,
        initializingWith initialize: (UnsafeMutableBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        let count = width * height * format.channels
        let pixels = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try initialize(buffer)
            initialized = count
        }
        self.init(width: width, height: height, format: format, pixels: pixels)
    }

    /// Samples per pixel.
    public var channels: Int { format.channels }

    /// Width and height.
    public var size: PixelSize { PixelSize(width: width, height: height) }

    /// Bytes per row (`width * channels`).
    public var rowBytes: Int { width * format.channels }

    /// The samples of the pixel at column `x`, row `y`.
    public func pixel(x: Int, y: Int) -> ArraySlice<UInt8> {
        let start = (y * width + x) * format.channels
        return pixels[start..<start + format.channels]
    }
}
