import Augment
import Codecs
import Foundation
import Preparation
import Shards
import Trainer

/// Makes image files and shard sets into a trained model's input exactly as `train` fed it:
/// shared by predict, visualize and evaluate.
///
/// A model trained on stored images of its own size takes a file made to its ``Model/inputSpec``
/// (what `pack` would store). A model trained with `--size` on shards of another size
/// (``Model/storedSpec``) takes the file made to the stored spec, then resampled to its size with
/// no augmentation, by the same ``EpochAugmenter`` the validation loader used: so `predict` gives
/// the model what validation gave it.
struct ModelInput {
    let model: Model

    /// The resampling from `stored` images to the model's input.
    private func resampler(from stored: ImageSpec) -> EpochAugmenter {
        EpochAugmenter(
            random: RandomTransform(), settings: RenderSettings(resizing: model.inputSpec.resize), stored: stored,
            output: model.inputSpec, seed: 0)
    }

    /// The file at `path` as one model input, in the model's image layout.
    /// - Throws: ``CodecError`` when the file cannot be read or decoded.
    func values(fileAt path: String) throws -> [Float] {
        let spec = model.inputSpec
        guard let stored = model.storedSpec else {
            return try ImageLoader(spec: spec).values(fileAt: path, layout: model.imageLayout)
        }
        let image = try ImageLoader(spec: stored).load(fileAt: path)
        var resampled = [UInt8](repeating: 0, count: spec.byteCount)
        image.pixels.withUnsafeBytes { pixels in
            resampled.withUnsafeMutableBytes { resampler(from: stored).render(pixels, parameters: TransformParameters(), into: $0) }
        }
        return [Float](unsafeUninitializedCapacity: spec.elementCount) { buffer, initialized in
            resampled.withUnsafeBytes { spec.values(of: $0, layout: model.imageLayout, into: buffer) }
            initialized = spec.elementCount
        }
    }

    /// The reader's transformation for `set`: a resample when the set holds the model's stored
    /// spec rather than its input spec, nil otherwise (the set is fed as stored, or refused).
    func transformation(for set: ShardSet) -> SampleTransformation? {
        let spec = set.manifest.spec
        guard spec != model.inputSpec, let stored = model.storedSpec, stored == spec else { return nil }
        return EpochAugmenter.transformation(
            random: RandomTransform(), settings: RenderSettings(resizing: model.inputSpec.resize), stored: stored,
            output: model.inputSpec, seed: 0)
    }
}
