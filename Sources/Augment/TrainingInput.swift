// How stored shard samples become a model's training input: the one definition that
// `dataprep train` and the engine behind the Python loader share, so both feed the same pixels.
public import Codecs
public import Shards

/// How the trainer turns stored shard samples into model input: resampled to the model's size
/// when it differs from the stored size, and augmented afresh for every sample in every epoch when
/// any augmentation range is set. `dataprep train` and the Python loader (`DataPrepEngine`) both
/// build their reader's ``SampleTransformation`` here, which is what makes their batches the same.
public struct TrainingInput: Hashable, Sendable {
    /// The augmentation ranges (the identity: no augmentation).
    public var random: RandomTransform
    /// Convention, fill and interpolation.
    public var settings: RenderSettings
    /// The model's input size; nil keeps the stored size.
    public var size: PixelSize?

    /// - Parameters:
    ///   - random: the augmentation ranges; `RandomTransform()` augments nothing.
    ///   - settings: how samples are rendered (Keras compatibility, fill, interpolation).
    ///   - size: the model's input size (nil: the stored size).
    public init(random: RandomTransform = RandomTransform(), settings: RenderSettings = RenderSettings(), size: PixelSize? = nil) {
        self.random = random
        self.settings = settings
        self.size = size
    }

    /// Whether any augmentation range is set.
    public var isAugmenting: Bool { random != RandomTransform() }

    /// Checks that the set in `directory` with `manifest` can be read through this input: fresh
    /// augmentation draws are keyed by sample, so it needs a set of one image per sample.
    /// - Throws: ``AugmentError`` `invalidOption` for fresh augmentation on a set of several
    ///   pre-augmented copies.
    public func check(_ manifest: ShardManifest, in directory: String) throws(AugmentError) {
        guard isAugmenting, manifest.copies > 1 else { return }
        throw AugmentError(
            .invalidOption,
            "\(directory) holds \(manifest.copies) pre-augmented copies of every image; fresh augmentation "
                + "needs one image per sample: train on shards made by pack (or augment --copies 1)")
    }

    /// The model's input spec for shards of `stored`: the stored spec, at ``size`` when it is given
    /// and differs, resized as ``settings`` say (their ``RenderSettings/resize``).
    public func modelSpec(stored: ImageSpec) -> ImageSpec {
        guard let size, size.width != stored.width || size.height != stored.height else { return stored }
        var spec = stored.resized(width: size.width, height: size.height)
        spec.resize = settings.resize
        return spec
    }

    /// The training reader's transformation for shards of `stored` feeding a model of `model`
    /// (``modelSpec(stored:)``): fresh augmentation keyed by `seed` (with the resample folded in)
    /// when augmenting, else the resample alone when the specs differ, else nil (the stored bytes
    /// as they are).
    public func transformation(stored: ImageSpec, model: ImageSpec, seed: UInt64) -> SampleTransformation? {
        guard isAugmenting else { return stored == model ? nil : Self.resampling(stored: stored, model: model) }
        return EpochAugmenter.transformation(random: random, settings: settings, stored: stored, output: model, seed: seed)
    }

    /// The resample, without augmentation, of `stored` images to the `model` spec (its resize
    /// says how: ``RenderSettings/init(resizing:)``): what validation data gets when the model's
    /// size differs from the stored size.
    public static func resampling(stored: ImageSpec, model: ImageSpec) -> SampleTransformation {
        EpochAugmenter.transformation(
            random: RandomTransform(), settings: RenderSettings(resizing: model.resize), stored: stored, output: model, seed: 0)
    }
}
