// PNG decode and encode through libpng 1.6's simplified API (png_image_*). The only file that
// imports CPNG.
// - SeeAlso: libpng-manual.txt, section "Simplified API"; png.h, `png_image`.
//
// The simplified API reports errors as a 0 return plus `png_image.message`, so no setjmp ever
// crosses Swift frames. libpng expands palette, low-bit-depth and tRNS images itself; 16-bit
// samples are scaled to 8 bits (v·255/65535, rounded) and are read as sRGB-encoded when the file has
// no gAMA/sRGB chunk (PNG_IMAGE_FLAG_16BIT_sRGB), which is what such files almost always hold.
// Channel conversion (gray ↔ RGB, alpha compositing) is done by `convert`, the same formulas as
// for JPEG, not by libpng (which would composite in linear light).
import CPNG

/// The message libpng left in a `png_image`.
private func message(of image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

// MARK: - Decoding

enum PNGCodec {
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws -> DecodedImage {
        var png = png_image()
        png.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_memory(&png, data.baseAddress, data.count) != 0 else {
            throw error(&png)
        }
        defer { png_image_free(&png) }

        let stored = png.format
        let hasColor = stored & PNG_FORMAT_FLAG_COLOR != 0, hasAlpha = stored & PNG_FORMAT_FLAG_ALPHA != 0
        let layout: SampleLayout = hasColor ? (hasAlpha ? .rgba : .rgb) : (hasAlpha ? .grayAlpha : .gray)
        let model =
            switch layout {
            case .gray: "gray"
            case .grayAlpha: "gray+alpha"
            case .rgb: "RGB"
            default: "RGBA"
            }
        let info = ImageInfo(
            format: .png, width: Int(png.width), height: Int(png.height), channels: layout.channels,
            bitDepth: stored & PNG_FORMAT_FLAG_LINEAR != 0 ? 16 : 8,
            colorModel: stored & PNG_FORMAT_FLAG_COLORMAP != 0 ? "palette (\(model))" : model,
            orientation: .up)
        guard info.width * info.height <= options.maximumPixels else {
            throw CodecError(.tooLarge, "\(info.width)x\(info.height) exceeds the limit of \(options.maximumPixels) pixels")
        }

        // Ask for the stored channels as 8-bit samples, with no colour map.
        png.format = stored & (PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        png.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let pixelCount = info.width * info.height
        let samples = try [UInt8](unsafeUninitializedCapacity: pixelCount * layout.channels) { buffer, initialized in
            guard png_image_finish_read(&png, nil, buffer.baseAddress, 0, nil) != 0 else { throw error(&png) }
            initialized = buffer.count
        }
        let warning = png.warning_or_error & 1 != 0 ? message(of: &png) : nil

        let format = options.pixelFormat ?? layout.natural
        let pixels =
            switch (layout, format) {
            case (.gray, .gray), (.rgb, .rgb), (.rgba, .rgba): samples
            default:
                samples.withUnsafeBufferPointer {
                    convert($0, layout: layout, pixelCount: pixelCount, to: format, background: options.background)
                }
            }
        let image = Image(width: info.width, height: info.height, format: format, pixels: pixels)
        return DecodedImage(image: image, info: info, scale: .one, warning: warning)
    }

    /// libpng's message as a ``CodecError``: `truncated` when the data ran out, else `corrupt`.
    private static func error(_ png: inout png_image) -> CodecError {
        let text = message(of: &png)
        let ranOut = text.contains("beyond end of data") || text.contains("Not enough image data")
        return CodecError(ranOut ? .truncated : .corrupt, text)
    }
}

// MARK: - Encoding

/// Encodes ``Image``s as 8-bit PNG (gray, RGB or RGBA, as the image is). Stateless and `Sendable`.
public struct PNGEncoder: Sendable {
    /// Favour speed over size (libpng's PNG_IMAGE_FLAG_FAST): for intermediate files only.
    public var fast: Bool

    public init(fast: Bool = false) {
        self.fast = fast
    }

    /// The PNG file for `image`; decoding it gives back exactly the same samples.
    /// - Throws: ``CodecError`` `encodeFailed` with libpng's message.
    public func encode(_ image: Image) throws -> [UInt8] {
        var png = png_image()
        png.version = png_uint_32(PNG_IMAGE_VERSION)
        png.width = png_uint_32(image.width)
        png.height = png_uint_32(image.height)
        png.format =
            switch image.format {
            case .gray: 0
            case .rgb: PNG_FORMAT_FLAG_COLOR
            case .rgba: PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA
            }
        png.flags = fast ? png_uint_32(PNG_IMAGE_FLAG_FAST) : 0
        // Asking libpng for the size first would compress twice: guess generously, retry if short.
        var capacity = image.pixels.count + image.height + image.pixels.count / 64 + 4096
        while true {
            var size = capacity
            var written = false
            let file = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                let ok = image.pixels.withUnsafeBytes {
                    png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, $0.baseAddress, 0, nil)
                }
                if ok != 0 {
                    written = true
                    initialized = size
                } else if png.warning_or_error & 0x03 > 1 {
                    throw CodecError(.encodeFailed, message(of: &png))
                }
            }
            if written { return file }
            guard size > capacity else { throw CodecError(.encodeFailed, "libpng wrote nothing and asked for no more room") }
            capacity = size  // too small: libpng reported the size it needs
        }
    }
}
