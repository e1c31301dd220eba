import Augment
import Codecs
import Foundation
import Preparation
import Shards
import TestSupport
import Testing

@Suite struct AugmentingPreparerTests {
    static let random = RandomTransform(
        rotation: 40, widthShift: .uniform(0.2), heightShift: .uniform(0.2), shear: 11,
        zoom: 0.8...1.2, horizontalFlip: true, channelShift: 10,
        brightness: 0.8...1.2)
    static let size = PixelSize(width: 32, height: 24)

    static func augment(
        _ items: [PreparationItem], into dir: String, threads: Int, convention: AugmentConvention = .corrected
    )
        throws -> (PreparationReport, ShardManifest)
    {
        let writer = try ShardWriter(
            directory: dir, split: "train", spec: ImageSpec(width: size.width, height: size.height, channels: 3),
            parameterCount: TransformParameters.recordedNames.count, rotation: .init(maxSamples: 5))
        let report = try ShardPreparation.run(items: items, copies: 3, writer: writer, threads: threads, onError: .skip) {
            AugmentingPreparer(
                size: size, format: .rgb, random: random, settings: RenderSettings(convention: convention, fill: .reflect),
                seed: 77)
        }
        let manifest = try writer.finish(
            classNames: ["a", "b"], parameterNames: TransformParameters.recordedNames, copies: 3,
            sources: items.map(\.path), provenance: .init(dataset: "t", tool: "t", options: [:], seed: 77))
        return (report, manifest)
    }

    @Test(arguments: AugmentConvention.allCases)
    func sameBytesWhateverTheThreadCount(convention: AugmentConvention) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try PreparationFixtures.images(in: dir)  // five good JPEGs and a truncated one
        let (report, one) = try Self.augment(items, into: dir + "/one", threads: 1, convention: convention)
        let (_, three) = try Self.augment(items, into: dir + "/three", threads: 3, convention: convention)
        #expect(one.shards.count == 3 && one.shards.map(\.digest) == three.shards.map(\.digest))
        for shard in one.shards {
            #expect(
                FileManager.default.contents(atPath: dir + "/one/" + shard.file)
                    == FileManager.default.contents(atPath: dir + "/three/" + shard.file))
        }
        #expect(report.written == 5 && report.skipped.map(\.code) == [.truncated])
        #expect(report.skipped.first?.path == dir + "/cut.jpg")

        // Each record carries the parameters its (seed, index, copy) draws, and its pixels are
        // that render of its source.
        let set = try ShardSet(directory: dir + "/one")
        #expect(set.count == 15 && set.manifest.copies == 3 && set.manifest.parameterNames == TransformParameters.recordedNames)
        let augmenter = ImageAugmenter(settings: RenderSettings(convention: convention, fill: .reflect))
        for sample in 0..<set.count {
            let index = Int(try set.source(sample)!), copy = sample % 3
            let p = Self.random.parameters(
                outputSize: Self.size, random: SampleRandom(seed: 77, index: index, copy: copy),
                convention: convention)
            #expect(try set.parameters(sample) == p.recorded)
            let source = try augmenter.decode(fileAt: items[index].path, for: Self.size)
            #expect(try set.image(sample) == augmenter.render(source, parameters: p, size: Self.size).pixels)
        }
        // Copies of one image differ.
        #expect(try set.image(0) != set.image(1))
    }
}
