// JPEG decode and encode with TurboJPEG (libjpeg-turbo 2.1 classic API). The only file that
// imports CTurboJPEG.
// - SeeAlso: https://libjpeg-turbo.org/Documentation/Documentation (TurboJPEG C API)
//
// Errors come back from TurboJPEG as -1 plus a per-handle message; TurboJPEG does the setjmp inside
// its own C code, so corrupt input never unwinds through Swift frames.
//
// Truncated input: libjpeg-turbo reports "Premature end of JPEG file" as a *warning* and still
// fills every row (the missing part comes out flat gray). A decode that warns and whose data does
// not end with the EOI marker counts as truncated too. By default truncation is an error
// (`CodecError.Code.truncated`, as PIL does without LOAD_TRUNCATED_IMAGES); with
// `DecodeOptions.acceptTruncated` the partial image is returned with `DecodedImage.warning` set.
// Other warnings (e.g. extraneous bytes before a marker) leave a usable image: it is returned with
// the warning.
import CTurboJPEG

// MARK: - Shared helpers

/// The handle's last message and whether TurboJPEG called it a warning.
private func lastError(_ handle: tjhandle) -> (message: String, isWarning: Bool) {
    let message = String(cString: tjGetErrorStr2(handle))
    return (message, tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue))
}

/// The DCT scales libjpeg-turbo can decode at that do not enlarge: 1/8 … 1, smallest first.
private let reducingScaleFactors: [ScaleFactor] = {
    var count: Int32 = 0
    guard let factors = tjGetScalingFactors(&count) else { return [.one] }
    return UnsafeBufferPointer(start: factors, count: Int(count))
        .map { ScaleFactor(numerator: Int($0.num), denominator: Int($0.denom)) }
        .filter { $0.numerator <= $0.denominator }
        .sorted { $0.numerator * $1.denominator < $1.numerator * $0.denominator }
}()

extension ScaleFactor {
    /// The smallest libjpeg-turbo scale at which an image of size `stored` still covers `minimum`
    /// in both directions; `1/1` when no smaller one does (or `minimum` is nil).
    ///
    /// For example, 500×375 with a 150×150 minimum gives 1/2 (250×188), since 3/8 gives 188×141.
    public static func smallest(for stored: PixelSize, covering minimum: PixelSize?) -> ScaleFactor {
        guard let minimum else { return .one }
        return reducingScaleFactors.first {
            $0.scale(stored.width) >= minimum.width && $0.scale(stored.height) >= minimum.height
        } ?? .one
    }
}

// MARK: - Decoding

/// Owns one TurboJPEG decompression handle. Not thread-safe: one per ``ImageDecoder``.
///
/// After any failed decode the handle is replaced: libjpeg-turbo 2.1 does not always reset its
/// state after an error in the headers, and a reused handle then rejects good files ("Bogus Huffman
/// table definition").
final class JPEGDecompressor {
    private var handle: tjhandle

    init() throws {
        handle = try Self.makeHandle()
    }

    deinit { tjDestroy(handle) }

    private static func makeHandle() throws -> tjhandle {
        guard let handle = tjInitDecompress() else {
            throw CodecError(.libraryFailure, "tjInitDecompress failed: \(String(cString: tjGetErrorStr2(nil)))")
        }
        return handle
    }

    func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws -> DecodedImage {
        do {
            return try decodeWithHandle(data, options: options)
        } catch {
            tjDestroy(handle)
            handle = try Self.makeHandle()
            throw error
        }
    }

    private func decodeWithHandle(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws -> DecodedImage {
        let jpeg = data.bindMemory(to: UInt8.self)
        var warning: String?
        // libjpeg-turbo reports only its first message, which for a cut file is often about the
        // garbage decoded just before the end ("bad Huffman code"), so a missing EOI marker at the
        // end is what marks truncation.
        let endsWithEOI = jpeg.count >= 2 && jpeg[jpeg.count - 2] == 0xFF && jpeg[jpeg.count - 1] == 0xD9
        func failure(_ message: String) -> CodecError {
            let truncated = message.contains("Premature end") || !endsWithEOI
            return CodecError(truncated ? .truncated : .corrupt, message)
        }

        // Header: size, subsampling, colour space.
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) != 0 {
            let (message, isWarning) = lastError(handle)
            guard isWarning else { throw failure(message) }
            warning = message
        }
        // TurboJPEG reports a tables-only stream (or one cut before its frame header) as 0×0.
        guard width > 0, height > 0 else {
            throw CodecError(.truncated, warning ?? "the data ends before the frame header: no image in it")
        }
        let markers = JPEGMarkers(scanning: data)
        let info = ImageInfo(
            format: .jpeg, width: Int(width), height: Int(height),
            channels: Self.components(colorspace), bitDepth: 8,
            colorModel: Self.colorModel(colorspace, subsampling: subsampling),
            orientation: markers.orientation)
        guard info.width * info.height <= options.maximumPixels else {
            throw CodecError(.tooLarge, "\(info.width)x\(info.height) exceeds the limit of \(options.maximumPixels) pixels")
        }

        // Scale: the minimum size is always asked of the upright image, whether or not the pixels are
        // turned upright here, so a caller that folds the orientation in later decodes once.
        let orientation = options.applyOrientation ? markers.orientation : .up
        let minimum = markers.orientation.swapsDimensions ? options.minimumSize?.transposed : options.minimumSize
        let scale = ScaleFactor.smallest(for: PixelSize(width: info.width, height: info.height), covering: minimum)
        let out = PixelSize(width: scale.scale(info.width), height: scale.scale(info.height))

        // CMYK/YCCK cannot be converted by libjpeg-turbo: decode the inks and convert here.
        let isCMYK = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let format = options.pixelFormat ?? (colorspace == Int32(TJCS_GRAY.rawValue) ? .gray : .rgb)
        let pixelFormat: TJPF =
            switch (isCMYK, format) {
            case (true, _): TJPF_CMYK
            case (false, .gray): TJPF_GRAY
            case (false, .rgb): TJPF_RGB
            case (false, .rgba): TJPF_RGBA
            }
        let flags = options.fastDCT ? TJFLAG_FASTDCT : TJFLAG_ACCURATEDCT
        let samples = out.width * out.height * (isCMYK ? 4 : format.channels)

        var pixels = try [UInt8](unsafeUninitializedCapacity: samples) { buffer, initialized in
            let rc = tjDecompress2(
                handle, jpeg.baseAddress, UInt(jpeg.count), buffer.baseAddress,
                Int32(out.width), 0, Int32(out.height), Int32(pixelFormat.rawValue), flags)
            if rc != 0 {
                let (message, isWarning) = lastError(handle)
                let error = failure(message)
                guard isWarning, error.code != .truncated || options.acceptTruncated else { throw error }
                warning = message
            }
            // Every row is written even after a warning: libjpeg-turbo pads missing data.
            initialized = samples
        }
        if isCMYK {
            pixels = pixels.withUnsafeBufferPointer {
                convert(
                    $0, layout: .cmyk(inverted: markers.hasAdobeMarker), pixelCount: out.width * out.height,
                    to: format, background: options.background)
            }
        }
        let image = Image(width: out.width, height: out.height, format: format, pixels: pixels).oriented(orientation)
        return DecodedImage(image: image, info: info, scale: scale, warning: warning)
    }

    private static func components(_ colorspace: Int32) -> Int {
        switch UInt32(colorspace) {
        case TJCS_GRAY.rawValue: 1
        case TJCS_CMYK.rawValue, TJCS_YCCK.rawValue: 4
        default: 3
        }
    }

    private static func colorModel(_ colorspace: Int32, subsampling: Int32) -> String {
        let sampling =
            switch UInt32(subsampling) {
            case TJSAMP_444.rawValue: " 4:4:4"
            case TJSAMP_422.rawValue: " 4:2:2"
            case TJSAMP_420.rawValue: " 4:2:0"
            case TJSAMP_440.rawValue: " 4:4:0"
            case TJSAMP_411.rawValue: " 4:1:1"
            default: ""
            }
        switch UInt32(colorspace) {
        case TJCS_GRAY.rawValue: return "gray"
        case TJCS_RGB.rawValue: return "RGB" + sampling
        case TJCS_YCbCr.rawValue: return "YCbCr" + sampling
        case TJCS_CMYK.rawValue: return "CMYK"
        case TJCS_YCCK.rawValue: return "YCCK" + sampling
        default: return "unknown"
        }
    }
}

// MARK: - Encoding

/// Chroma subsampling for JPEG encoding (gray images are always stored as one gray component).
public enum ChromaSubsampling: String, Sendable, CaseIterable {
    /// Full chroma resolution.
    case s444 = "4:4:4"
    /// Chroma halved horizontally.
    case s422 = "4:2:2"
    /// Chroma halved in both directions (what most cameras and `cjpeg` write).
    case s420 = "4:2:0"
    /// Chroma halved vertically.
    case s440 = "4:4:0"
    /// Chroma quartered horizontally.
    case s411 = "4:1:1"

    fileprivate var turboJPEG: TJSAMP {
        switch self {
        case .s444: TJSAMP_444
        case .s422: TJSAMP_422
        case .s420: TJSAMP_420
        case .s440: TJSAMP_440
        case .s411: TJSAMP_411
        }
    }
}

/// Options for ``JPEGEncoder/encode(_:options:)``.
public struct JPEGEncodeOptions: Sendable, Hashable {
    /// 1 (smallest) … 100 (best).
    public var quality: Int
    public var subsampling: ChromaSubsampling
    /// Write a progressive JPEG instead of a baseline one.
    public var progressive: Bool

    public init(quality: Int = 90, subsampling: ChromaSubsampling = .s420, progressive: Bool = false) {
        self.quality = quality
        self.subsampling = subsampling
        self.progressive = progressive
    }
}

/// Encodes ``Image``s as JPEG. Owns a TurboJPEG handle: not `Sendable`, one per thread.
public final class JPEGEncoder {
    private let handle: tjhandle

    /// - Throws: ``CodecError`` `libraryFailure` if TurboJPEG cannot allocate its state.
    public init() throws {
        guard let handle = tjInitCompress() else {
            throw CodecError(.libraryFailure, "tjInitCompress failed: \(String(cString: tjGetErrorStr2(nil)))")
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// The JPEG file for `image`. RGBA images are written without their alpha channel.
    /// - Throws: ``CodecError`` `encodeFailed` for a quality outside 1...100 or a TurboJPEG error.
    public func encode(_ image: Image, options: JPEGEncodeOptions = JPEGEncodeOptions()) throws -> [UInt8] {
        guard (1...100).contains(options.quality) else {
            throw CodecError(.encodeFailed, "JPEG quality must be 1...100, got \(options.quality)")
        }
        let (pixelFormat, subsampling): (TJPF, TJSAMP) =
            switch image.format {
            case .gray: (TJPF_GRAY, TJSAMP_GRAY)
            case .rgb: (TJPF_RGB, options.subsampling.turboJPEG)
            case .rgba: (TJPF_RGBA, options.subsampling.turboJPEG)
            }
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC | (options.progressive ? TJFLAG_PROGRESSIVE : 0)
        let capacity = Int(tjBufSize(Int32(image.width), Int32(image.height), Int32(subsampling.rawValue)))
        return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var destination = buffer.baseAddress
            var size = UInt(capacity)
            let rc = image.pixels.withUnsafeBufferPointer { src in
                tjCompress2(
                    handle, src.baseAddress, Int32(image.width), 0, Int32(image.height),
                    Int32(pixelFormat.rawValue), &destination, &size, Int32(subsampling.rawValue),
                    Int32(options.quality), flags)
            }
            guard rc == 0 else { throw CodecError(.encodeFailed, lastError(handle).message) }
            initialized = Int(size)
        }
    }
}
