public import Codecs
public import Preparation
public import Shards

/// How augmented images are rendered, apart from the random parameters.
public struct RenderSettings: Hashable, Sendable {
    /// What the parameters and options mean.
    public var convention: AugmentConvention
    /// How points outside the image are filled.
    public var fill: FillMode
    /// The `constant` fill value, 0…255, for every channel (Keras's `cval`).
    public var cval: Double
    /// How the source is sampled (corrected convention; Keras-compat is always bilinear, SciPy order 1).
    public var interpolation: Interpolation

    public init(
        convention: AugmentConvention = .corrected, fill: FillMode = .nearest, cval: Double = 0,
        interpolation: Interpolation = .bilinear
    ) {
        self.convention = convention
        self.fill = fill
        self.cval = cval
        self.interpolation = interpolation
    }

    /// Checks the settings: the one check of them, which a caller reports in its own terms (the
    /// error's parameter is the property at fault).
    /// - Throws: ``AugmentError`` `invalidOption` for a `cval` outside 0…255 or nearest
    ///   `interpolation` asked together with Keras compatibility.
    public func validate() throws(AugmentError) {
        guard (0...255).contains(cval) else { throw AugmentError(.invalidOption, "must be 0...255, got \(cval)", parameter: "cval") }
        guard convention == .corrected || interpolation == .bilinear else {
            throw AugmentError(
                .invalidOption, "must be bilinear under Keras compatibility (SciPy order 1): nearest is not available with it",
                parameter: "interpolation")
        }
    }
}

/// A decoded source image and the EXIF orientation still to be applied to it.
public struct SourceImage: Sendable {
    /// The pixels as decoded.
    public var image: Image
    /// The orientation that turns `image` upright (folded into the resample).
    public var orientation: Orientation
    /// A decoder warning about the file, if any.
    public var warning: String?

    /// - Parameters:
    ///   - orientation: the EXIF orientation still to apply (`.up` for pixels already upright).
    public init(image: Image, orientation: Orientation = .up, warning: String? = nil) {
        self.image = image
        self.orientation = orientation
        self.warning = warning
    }

    /// The size of the upright image.
    public var uprightSize: PixelSize { orientation.swapsDimensions ? image.size.transposed : image.size }
}

/// Decodes and renders augmented images under one ``RenderSettings``. Owns a decoder and scratch
/// buffers, so it is not `Sendable`: make one per worker and reuse it for every image.
public final class ImageAugmenter {
    public let settings: RenderSettings
    public let format: PixelFormat
    private let decoder = ImageDecoder()
    private let compat = KerasCompatRenderer()

    /// - Parameters:
    ///   - format: the output pixel format (the source is decoded to it).
    public init(settings: RenderSettings, format: PixelFormat = .rgb) {
        self.settings = settings
        self.format = format
    }

    /// Decodes the file at `path` for outputs of `size` (nil: the image's own size).
    ///
    /// Corrected convention: a JPEG is decoded at the smallest DCT scale whose upright image covers
    /// `size`, in stored orientation (the EXIF orientation is folded into the resample). Keras
    /// compatibility: full scale, EXIF orientation ignored, as PIL's `load_img` does.
    /// - Throws: ``CodecError`` when the file cannot be decoded.
    public func decode(fileAt path: String, for size: PixelSize?) throws -> SourceImage {
        guard settings.convention == .corrected else {
            let decoded = try decoder.decode(fileAt: path, options: DecodeOptions(pixelFormat: format, applyOrientation: false))
            return SourceImage(image: decoded.image, orientation: .up, warning: decoded.warning)
        }
        let decoded = try decoder.decode(
            fileAt: path,
            options: DecodeOptions(
                pixelFormat: format, minimumSize: size,
                applyOrientation: false))
        let orientation = decoded.info.orientation
        return SourceImage(image: decoded.image, orientation: orientation, warning: decoded.warning)
    }

    /// Renders `source` transformed by `parameters` at `size` into `output` (exactly
    /// `size.width · size.height · channels` bytes, row-major HWC): one resample of the source under
    /// the corrected convention, Keras's steps under Keras compatibility.
    public func render(
        _ source: SourceImage, parameters: TransformParameters, size: PixelSize,
        into output: UnsafeMutableRawBufferPointer
    ) {
        switch settings.convention {
        case .corrected:
            let map = TransformGeometry.fused(parameters, output: size, stored: source.image.size, orientation: source.orientation)
            AffineSampler.render(
                source.image, map: map, size: size, fill: settings.fill, cval: settings.cval,
                interpolation: settings.interpolation, color: ColorAdjustment(parameters), into: output)
        case .kerasCompat:
            compat.render(
                source.image.oriented(source.orientation), parameters: parameters, size: size, fill: settings.fill,
                cval: settings.cval, into: output)
        }
    }

    /// `source` transformed by `parameters` at `size`, as a new image.
    public func render(_ source: SourceImage, parameters: TransformParameters, size: PixelSize) -> Image {
        Image(width: size.width, height: size.height, format: source.image.format) { pixels in
            render(source, parameters: parameters, size: size, into: UnsafeMutableRawBufferPointer(pixels))
        }
    }
}

// MARK: - The image spec

extension RenderSettings {
    /// How un-augmented images (the validation split, `predict`'s input) are resized to match images
    /// rendered under these settings: Keras's `load_img` nearest resize under Keras compatibility,
    /// otherwise the interpolation's resize.
    public var resize: ImageSpec.Resize {
        switch (convention, interpolation) {
        case (.kerasCompat, _): .kerasNearest
        case (.corrected, .bilinear): .bilinear
        case (.corrected, .nearest): .nearest
        }
    }
}
