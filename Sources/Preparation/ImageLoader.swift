public import Codecs
public import Shards

/// Makes an image file into one image of an ``ImageSpec``: what `pack` writes, what the validation
/// split of `augment` gets, and what `predict` and `visualize` give a model. One code path for all
/// of them, so a model sees at prediction time exactly the pixels a shard of its spec holds.
///
/// Owns a decoder and scratch buffers, so it is not `Sendable`: make one per thread.
public final class ImageLoader {
    /// The spec every image is made to.
    public let spec: ImageSpec
    private let decoder = ImageDecoder()

    /// - Precondition: `spec` is valid (``ImageSpec/validate()``).
    public init(spec: ImageSpec) {
        self.spec = spec
    }

    /// The output size.
    public var size: PixelSize { PixelSize(width: spec.width, height: spec.height) }

    private var format: PixelFormat { spec.channels == 1 ? .gray : .rgb }

    /// Decodes the file at `path` and writes it, made to the spec, into `output` (exactly
    /// ``ImageSpec/byteCount`` bytes, row-major HWC).
    ///
    /// `bilinear` and `nearest`: a JPEG is decoded at the smallest DCT scale whose upright image
    /// covers the size, turned upright by its EXIF orientation, then resized
    /// (``resize(_:to:interpolation:into:)``). `keras-nearest`: full
    /// scale, orientation ignored, PIL's nearest resize (Keras's `load_img`).
    /// - Returns: the decoder's warning about the file, if any.
    /// - Throws: ``CodecError`` when the file cannot be read or decoded.
    public func load(fileAt path: String, into output: UnsafeMutableRawBufferPointer) throws -> String? {
        precondition(output.count == spec.byteCount, "output buffer has the wrong size for \(spec)")
        switch spec.resize {
        case .bilinear, .nearest:
            let decoded = try decoder.decode(fileAt: path, options: DecodeOptions(pixelFormat: format, minimumSize: size))
            Self.resize(decoded.image, to: size, interpolation: spec.resize == .nearest ? .nearest : .bilinear, into: output)
            return decoded.warning
        case .kerasNearest:
            let decoded = try decoder.decode(fileAt: path, options: DecodeOptions(pixelFormat: format, applyOrientation: false))
            PILNearest.resize(decoded.image, to: size, into: output)
            return decoded.warning
        }
    }

    /// Writes `image` resized to `size` into `output` (exactly `size.width · size.height · channels`
    /// bytes): ``AffineSampler`` through the resize map (`u = (x + ½)·Ws/W − ½`), edges clamped,
    /// the same resample `augment` runs with no augmentation; a copy when the sizes match.
    public static func resize(
        _ image: Image, to size: PixelSize, interpolation: Interpolation, into output: UnsafeMutableRawBufferPointer
    ) {
        if image.size == size {
            image.pixels.withUnsafeBytes { output.copyMemory(from: $0) }
            return
        }
        AffineSampler.render(
            image, map: .resize(from: image.size, to: size), size: size, fill: .nearest, cval: 0,
            interpolation: interpolation, color: .identity, into: output)
    }

    /// The file at `path` made to the spec, as an image.
    /// - Throws: ``CodecError`` when the file cannot be read or decoded.
    public func load(fileAt path: String) throws -> Image {
        var failure: (any Error)?
        let image = Image(width: spec.width, height: spec.height, format: format) { pixels in
            do { _ = try load(fileAt: path, into: UnsafeMutableRawBufferPointer(pixels)) } catch { failure = error }
        }
        if let failure { throw failure }
        return image
    }

    /// The file at `path` as one model input: made to the spec, then each sample times the spec's
    /// rescale, in `layout` (the batch reader's arithmetic, ``ImageSpec/values(of:layout:into:)``).
    /// - Throws: ``CodecError`` when the file cannot be read or decoded.
    public func values(fileAt path: String, layout: BatchOptions.ImageLayout) throws -> [Float] {
        let image = try load(fileAt: path)
        return [Float](unsafeUninitializedCapacity: spec.elementCount) { buffer, initialized in
            image.pixels.withUnsafeBytes { spec.values(of: $0, layout: layout, into: buffer) }
            initialized = spec.elementCount
        }
    }
}

/// Makes each image into one record of an ``ImageSpec`` with an ``ImageLoader``, without
/// augmentation: what `dataprep pack` and the validation split get.
public final class ResizingPreparer: RecordPreparer {
    private let loader: ImageLoader

    /// - Precondition: `spec` is valid.
    public init(spec: ImageSpec) {
        loader = ImageLoader(spec: spec)
    }

    public func prepare(
        _ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer
    ) throws
        -> (parameters: [Float], warning: String?)
    {
        ([], try loader.load(fileAt: item.path, into: image))
    }
}
