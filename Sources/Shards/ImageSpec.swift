/// What one model input image is and how it is made from an image file: the one preprocessing
/// contract. `pack` and `augment` write it into the manifest, `train` copies it into every weights
/// file and checkpoint, and the batch reader, `evaluate`, `predict` and `visualize` read it from
/// there and nothing else, so a model always gets its input prepared the way it was trained.
///
/// Sizes are always width × height (`150x150`); the samples are stored row-major HWC.
public struct ImageSpec: Codable, Hashable, Sendable, CustomStringConvertible {
    /// How a decoded file becomes `width × height` pixels.
    public enum Resize: String, Codable, Sendable, CaseIterable {
        /// JPEGs decoded at the smallest DCT scale that covers the size, EXIF orientation applied,
        /// then resampled as `augment` resamples (its fused sampler with no augmentation): bilinear
        /// between the four source pixels around each output pixel's centre
        /// (`tf.image.resize`'s default), and where it shrinks by more than 2× along an axis, the
        /// mean of ⌈shrink⌉ bilinear taps spread over the output pixel's footprint, so shrinking
        /// does not alias.
        case bilinear
        /// As ``bilinear``, but each output pixel takes the source pixel nearest its centre.
        case nearest
        /// Keras's `load_img(target_size=...)`: full-scale decode, EXIF orientation ignored, PIL's
        /// nearest resize (what `--keras-compat` reproduces).
        case kerasNearest = "keras-nearest"
    }

    /// The largest width or height accepted, in pixels.
    public static let maximumSide = 8192
    /// The largest image accepted, in pixels (width · height): 64 MP.
    public static let maximumPixels = 1 << 26
    /// Keras's `rescale=1./255`.
    public static let defaultRescale: Float = 1.0 / 255

    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// Samples per pixel: 1 (gray) or 3 (RGB).
    public var channels: Int
    /// How files are resized to the spec.
    public var resize: Resize
    /// What each uint8 sample is multiplied by to give the model's Float32 input.
    public var rescale: Float

    /// - Parameters:
    ///   - width, height: in pixels.
    ///   - channels: 1 or 3.
    public init(width: Int, height: Int, channels: Int, resize: Resize = .bilinear, rescale: Float = Self.defaultRescale) {
        self.width = width
        self.height = height
        self.channels = channels
        self.resize = resize
        self.rescale = rescale
    }

    /// Bytes of one stored image (width · height · channels).
    public var byteCount: Int { width * height * channels }

    /// Float32 values of one model input (width · height · channels).
    public var elementCount: Int { byteCount }

    /// `150x150x3 bilinear`.
    public var description: String { "\(width)x\(height)x\(channels) \(resize.rawValue)" }

    /// `150x150`.
    public var sizeDescription: String { "\(width)x\(height)" }

    /// The same spec at another size.
    public func resized(width: Int, height: Int) -> ImageSpec {
        var spec = self
        spec.width = width
        spec.height = height
        return spec
    }

    /// Checks the spec against the documented limits.
    /// - Throws: ``ShardError`` `invalidArgument` naming what is out of range: a side outside
    ///   1…``maximumSide``, more than ``maximumPixels`` pixels, channels other than 1 or 3, or a
    ///   rescale that is not finite and positive.
    public func validate() throws(ShardError) {
        guard (1...Self.maximumSide).contains(width), (1...Self.maximumSide).contains(height) else {
            throw ShardError(.invalidArgument, "image size \(sizeDescription) is out of range: each side must be 1...\(Self.maximumSide)")
        }
        guard width * height <= Self.maximumPixels else {
            throw ShardError(.invalidArgument, "image size \(sizeDescription) has more than \(Self.maximumPixels) pixels")
        }
        guard channels == 1 || channels == 3 else {
            throw ShardError(.invalidArgument, "channels must be 1 or 3, got \(channels)")
        }
        guard rescale.isFinite, rescale > 0 else {
            throw ShardError(.invalidArgument, "rescale must be finite and positive, got \(rescale)")
        }
    }

    /// Converts one stored image (``byteCount`` bytes, HWC) into model input: each sample times
    /// ``rescale``, in `layout`. The batch reader converts with the same arithmetic, so a file
    /// prepared to this spec gives the model the values a shard sample does.
    public func values(
        of image: UnsafeRawBufferPointer, layout: BatchOptions.ImageLayout,
        into output: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(image.count == byteCount && output.count == elementCount, "buffers do not match the spec \(self)")
        let pixels = width * height
        let bytes = image.bindMemory(to: UInt8.self)
        for p in 0..<pixels {
            for c in 0..<channels {
                let index = layout == .nhwc ? p * channels + c : c * pixels + p
                output[index] = Float(bytes[p * channels + c]) * rescale
            }
        }
    }
}
