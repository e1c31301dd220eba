public import Codecs
public import Preparation

/// Writes `copies` augmented copies of each training image into shard records: decodes the image
/// once (for its first copy), draws copy `c` of image `i`'s parameters from
/// `SampleRandom(seed:index:copy:)`, renders them, and returns them as the record's parameters
/// (``TransformParameters/recorded``, named by ``TransformParameters/recordedNames``). The output
/// depends only on (seed, index, copy, file), never on the worker: what makes `dataprep augment`'s
/// shards identical whatever the thread count.
public final class AugmentingPreparer: RecordPreparer {
    private let augmenter: ImageAugmenter
    private let random: RandomTransform
    private let size: PixelSize
    private let seed: UInt64
    private var current: (index: Int, source: SourceImage)?

    /// - Parameters:
    ///   - size: output width × height.
    ///   - format: `.gray` or `.rgb`.
    ///   - random: the augmentation ranges.
    ///   - settings: convention, fill and interpolation.
    ///   - seed: the run's seed.
    public init(size: PixelSize, format: PixelFormat, random: RandomTransform, settings: RenderSettings, seed: UInt64) {
        augmenter = ImageAugmenter(settings: settings, format: format)
        self.random = random
        self.size = size
        self.seed = seed
    }

    public func prepare(
        _ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer
    ) throws
        -> (parameters: [Float], warning: String?)
    {
        let source: SourceImage
        if let current, current.index == index {
            source = current.source
        } else {
            current = nil  // free the previous image before decoding the next
            source = try augmenter.decode(fileAt: item.path, for: size)
            current = (index, source)
        }
        let parameters = random.parameters(
            outputSize: size, random: SampleRandom(seed: seed, index: index, copy: copy),
            convention: augmenter.settings.convention)
        augmenter.render(source, parameters: parameters, size: size, into: image)
        return (parameters.recorded, source.warning)
    }
}
