// Fresh augmentation at training time: the batch reader's per-sample transform (Shards'
// `SampleTransform`) that renders each stored shard sample with new random parameters in every
// epoch, and resizes stored images to the model's input size, in one resample.
public import Codecs
import Preparation
public import Shards

// MARK: - The per-epoch augmenter

/// Renders stored shard samples (upright pixels of the set's ``ImageSpec``) into the model's input,
/// with a fresh draw of ``RandomTransform`` for every sample in every epoch: what `dataprep train
/// --rotate ...` plugs into the batch reader, so the model never sees the same picture twice and
/// nothing is stored.
///
/// Sample `sample` in epoch `epoch` (0-based) draws its parameters from
/// `SampleRandom(seed: seed, index: sample, copy: epoch)`, for an output of the model's size: the
/// same numbers `dataprep augment --copies N` draws for copy `epoch` of image `sample` with the same
/// seed. The output is a pure function of (stored bytes, seed, sample, epoch), never of the thread.
///
/// - Corrected convention: the resize from the stored size to the output size and the
///   augmentation are folded into one output→stored map (``TransformGeometry/fused(_:output:stored:orientation:)``)
///   and the stored pixels are sampled once, read in place: no allocation per sample.
/// - Keras compatibility: ``KerasCompatRenderer`` on the stored pixels (copied into a buffer
///   allocated once): PIL's nearest resize to the output size (a copy when the sizes match, so
///   `keras-nearest` shards of the model's size give exactly what Keras's `load_img` gives), then
///   Keras's affine and colour steps.
///
/// With the identity ``RandomTransform`` it only resizes: what validation data and `predict` get
/// when the model's input size differs from the stored size.
///
/// Not `Sendable`: one per worker (``transformation(random:settings:stored:output:seed:)`` makes
/// one per reader thread).
public final class EpochAugmenter: SampleTransform {
    /// The augmentation ranges (the identity: resize only).
    public let random: RandomTransform
    /// Convention, fill and interpolation.
    public let settings: RenderSettings
    /// What the shards hold.
    public let stored: ImageSpec
    /// What the model takes (channels must be the stored ones).
    public let output: ImageSpec
    /// The run's seed (`train --seed`).
    public let seed: UInt64
    private let compat = KerasCompatRenderer()
    /// Keras compatibility only: the stored image, refilled in place for each sample.
    private var compatSource: Image?

    /// - Parameters:
    ///   - random: the augmentation ranges; `RandomTransform()` only resizes.
    ///   - settings: convention, fill and interpolation.
    ///   - stored: the shard set's spec.
    ///   - output: the model's input spec (same channels).
    ///   - seed: keys the counter-based generator.
    /// - Precondition: `stored` and `output` have the same channels, 1 or 3.
    public init(random: RandomTransform, settings: RenderSettings, stored: ImageSpec, output: ImageSpec, seed: UInt64) {
        precondition(stored.channels == output.channels, "an augmenter keeps the channels")
        self.random = random
        self.settings = settings
        self.stored = stored
        self.output = output
        self.seed = seed
        if settings.convention == .kerasCompat {
            compatSource = Image(
                width: stored.width, height: stored.height, format: Self.format(stored),
                pixels: [UInt8](repeating: 0, count: stored.byteCount))
        }
    }

    /// The reader's transformation: one augmenter per worker, all with these arguments.
    public static func transformation(
        random: RandomTransform, settings: RenderSettings, stored: ImageSpec, output: ImageSpec, seed: UInt64
    ) -> SampleTransformation {
        SampleTransformation(output: output) {
            EpochAugmenter(random: random, settings: settings, stored: stored, output: output, seed: seed)
        }
    }

    /// The output size.
    public var size: PixelSize { PixelSize(width: output.width, height: output.height) }

    /// The parameters of sample `sample` in epoch `epoch` (0-based).
    public func parameters(sample: Int, epoch: Int) -> TransformParameters {
        random.parameters(
            outputSize: size, random: SampleRandom(seed: seed, index: sample, copy: epoch), convention: settings.convention)
    }

    /// Renders `stored` (``stored``'s ``ImageSpec/byteCount`` bytes) as sample `sample` of epoch
    /// `epoch` into `output` (``output``'s byte count).
    public func render(stored pixels: UnsafeRawBufferPointer, sample: Int, epoch: Int, into output: UnsafeMutableRawBufferPointer) {
        render(pixels, parameters: parameters(sample: sample, epoch: epoch), into: output)
    }

    /// Renders `stored` transformed by `parameters` into `output`.
    public func render(_ pixels: UnsafeRawBufferPointer, parameters: TransformParameters, into output: UnsafeMutableRawBufferPointer) {
        precondition(pixels.count == stored.byteCount, "the stored image does not match \(stored)")
        let storedSize = PixelSize(width: stored.width, height: stored.height)
        switch settings.convention {
        case .corrected:
            let map = TransformGeometry.fused(parameters, output: size, stored: storedSize, orientation: .up)
            AffineSampler.render(
                pixels.bindMemory(to: UInt8.self), of: storedSize, format: Self.format(stored), map: map, size: size,
                fill: settings.fill, cval: settings.cval, interpolation: settings.interpolation,
                color: ColorAdjustment(parameters), into: output)
        case .kerasCompat:
            compatSource!.pixels.withUnsafeMutableBytes { $0.copyMemory(from: pixels) }
            compat.render(compatSource!, parameters: parameters, size: size, fill: settings.fill, cval: settings.cval, into: output)
        }
    }

    private static func format(_ spec: ImageSpec) -> PixelFormat { spec.channels == 1 ? .gray : .rgb }
}

// MARK: - Resizing to the model's size

extension RenderSettings {
    /// The settings that resize un-augmented images as `resize` says, for validation data and
    /// `predict` when the model's size differs from the stored size: `bilinear` and `nearest` with
    /// the corrected convention and that interpolation, `keras-nearest` with Keras compatibility
    /// (PIL's nearest resize); the fill is `nearest`. The inverse of ``resize``.
    public init(resizing resize: ImageSpec.Resize) {
        switch resize {
        case .bilinear: self.init(convention: .corrected, interpolation: .bilinear)
        case .nearest: self.init(convention: .corrected, interpolation: .nearest)
        case .kerasNearest: self.init(convention: .kerasCompat)
        }
    }
}
