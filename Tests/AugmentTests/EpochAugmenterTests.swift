import Augment
import Codecs
import Foundation
import Shards
import TestSupport
import Testing

/// Fresh augmentation in the batch reader: deterministic whatever the threads and prefetch, new in
/// every epoch, and the identity when no augmentation is asked.
@Suite struct EpochAugmenterTests {
    static let spec = ImageSpec(width: 20, height: 16, channels: 3)
    static let tutorial = RandomTransform(
        rotation: 40, widthShift: .uniform(0.2), heightShift: .uniform(0.2), shear: 0.2,
        zoom: 0.8...1.2, horizontalFlip: true)

    /// A set of `count` photo-like images of `spec`.
    static func makeSet(at directory: String, count: Int, spec: ImageSpec = Self.spec) throws -> ShardSet {
        let writer = try ShardWriter(directory: directory, split: "train", spec: spec, hasSource: false)
        for i in 0..<count {
            let image = SyntheticImages.photoLike(width: spec.width, height: spec.height, seed: UInt64(i + 1))
            try image.pixels.withUnsafeBytes { try writer.append(image: $0, label: i % 2) }
        }
        try writer.finish(classNames: ["a", "b"], provenance: .init(dataset: "photos", tool: "test", options: [:], seed: 1))
        return try ShardSet(directory: directory)
    }

    func withSet(count: Int = 13, _ body: (ShardSet) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("epoch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try Self.makeSet(at: dir, count: count))
    }

    /// Every image of `epochs`, keyed by (epoch, sample), as the reader gives them.
    func images(
        _ set: ShardSet, _ transformation: SampleTransformation, threads: Int = 1, prefetch: Int = 2, epochs: Range<Int>
    ) throws -> [[Int: [Float]]] {
        let loader = try BatchLoader(
            set: set, options: BatchOptions(batchSize: 4, seed: 3, prefetch: prefetch, threads: threads),
            transformation: transformation)
        let floats = transformation.output.elementCount
        return try epochs.map { epoch in
            var images: [Int: [Float]] = [:]
            let batches = loader.epoch(epoch)
            while let batch = try batches.next() {
                for (row, sample) in batch.samples.enumerated() { images[sample] = Array(batch.images[row * floats..<(row + 1) * floats]) }
            }
            return images
        }
    }

    @Test func batchesAreTheSameWhateverTheThreadsAndPrefetch() throws {
        try withSet { set in
            for settings in [RenderSettings(), RenderSettings(convention: .kerasCompat)] {
                let transformation = EpochAugmenter.transformation(
                    random: Self.tutorial, settings: settings, stored: Self.spec, output: Self.spec.resized(width: 15, height: 12), seed: 5)
                let reference = try images(set, transformation, epochs: 0..<2)
                for threads in [1, 2, 3] {
                    for prefetch in [1, 4] {
                        #expect(
                            try images(set, transformation, threads: threads, prefetch: prefetch, epochs: 0..<2) == reference,
                            "\(settings.convention): threads \(threads), prefetch \(prefetch)")
                    }
                }
            }
        }
    }

    @Test func everyEpochDiffersForEverySample() throws {
        try withSet { set in
            let transformation = EpochAugmenter.transformation(
                random: Self.tutorial, settings: RenderSettings(), stored: Self.spec, output: Self.spec, seed: 5)
            let epochs = try images(set, transformation, epochs: 0..<4)
            for sample in 0..<set.count {
                let seen = epochs.map { $0[sample]! }
                #expect(Set(seen.map { $0.map(\.bitPattern) }).count == 4, "sample \(sample)")
            }
        }
    }

    @Test func theDrawsAreAugmentsCopiesAndTheIdentityCopiesTheStoredPixels() throws {
        let image = SyntheticImages.photoLike(width: 20, height: 16, seed: 3)
        let augmenter = EpochAugmenter(random: Self.tutorial, settings: RenderSettings(), stored: Self.spec, output: Self.spec, seed: 5)
        // Epoch e of sample i draws what augment draws for copy e of image i.
        for (sample, epoch) in [(0, 0), (7, 3), (12, 14)] {
            #expect(
                augmenter.parameters(sample: sample, epoch: epoch)
                    == Self.tutorial.parameters(
                        outputSize: PixelSize(width: 20, height: 16), random: SampleRandom(seed: 5, index: sample, copy: epoch),
                        convention: .corrected))
        }
        // No augmentation at the stored size gives the stored bytes back (validation's path).
        for resize in ImageSpec.Resize.allCases {
            let identity = EpochAugmenter(
                random: RandomTransform(), settings: RenderSettings(resizing: resize), stored: Self.spec, output: Self.spec, seed: 5)
            var out = [UInt8](repeating: 0, count: Self.spec.byteCount)
            image.pixels.withUnsafeBytes { stored in
                out.withUnsafeMutableBytes { identity.render(stored: stored, sample: 3, epoch: 9, into: $0) }
            }
            #expect(out == image.pixels, "\(resize)")
        }
        // Keras compatibility at the stored size renders what augment's renderer gives for that copy.
        let compat = EpochAugmenter(
            random: Self.tutorial, settings: RenderSettings(convention: .kerasCompat), stored: Self.spec, output: Self.spec, seed: 5)
        var fresh = [UInt8](repeating: 0, count: Self.spec.byteCount)
        image.pixels.withUnsafeBytes { stored in
            fresh.withUnsafeMutableBytes { compat.render(stored: stored, sample: 2, epoch: 1, into: $0) }
        }
        let expected = ImageAugmenter(settings: RenderSettings(convention: .kerasCompat)).render(
            SourceImage(image: image), parameters: compat.parameters(sample: 2, epoch: 1), size: PixelSize(width: 20, height: 16))
        #expect(fresh == expected.pixels)
    }
}
