import Codecs
import Foundation
import Preparation
import Shards
import TestSupport
import Testing

@Suite struct ShardPreparationTests {
    static func pack(
        _ items: [PreparationItem], into dir: String, threads: Int, onError: ErrorPolicy = .skip
    ) throws
        -> (PreparationReport, ShardManifest)
    {
        let writer = try ShardWriter(
            directory: dir, split: "validation", spec: ImageSpec(width: 32, height: 24, channels: 3),
            rotation: .init(maxSamples: 2))
        let report = try ShardPreparation.run(items: items, copies: 1, writer: writer, threads: threads, onError: onError) {
            ResizingPreparer(spec: ImageSpec(width: 32, height: 24, channels: 3))
        }
        let manifest = try writer.finish(
            classNames: ["a", "b"], sources: items.map(\.path),
            provenance: .init(dataset: "t", tool: "t", options: [:], seed: nil))
        return (report, manifest)
    }

    @Test func outputIsIdenticalWhateverTheThreadCount() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try PreparationFixtures.images(in: dir)
        let (report1, one) = try Self.pack(items, into: dir + "/one", threads: 1)
        let (_, three) = try Self.pack(items, into: dir + "/three", threads: 3)
        #expect(one.shards.map(\.digest) == three.shards.map(\.digest))
        for shard in one.shards {
            #expect(
                FileManager.default.contents(atPath: dir + "/one/" + shard.file)
                    == FileManager.default.contents(atPath: dir + "/three/" + shard.file))
        }
        #expect(report1.written == 5)
        #expect(report1.skipped.map(\.code) == [.truncated])
        #expect(report1.skipped.first?.path == dir + "/cut.jpg")

        // Each sample is the resized decode of its source, and carries its source id and label.
        let set = try ShardSet(directory: dir + "/one")
        #expect(set.count == 5)
        let decoder = ImageDecoder(), size = PixelSize(width: 32, height: 24)
        for i in 0..<set.count {
            let source = Int(try set.source(i)!)
            let decoded = try decoder.decode(
                fileAt: items[source].path,
                options: DecodeOptions(pixelFormat: .rgb, minimumSize: PixelSize(width: 32, height: 24)))
            let resized = Image(width: 32, height: 24, format: .rgb) {
                ImageLoader.resize(decoded.image, to: size, interpolation: .bilinear, into: UnsafeMutableRawBufferPointer($0))
            }
            #expect(try set.image(i) == resized.pixels)
            #expect(try set.label(i) == items[source].label)
        }
    }

    @Test func failPolicyStopsAtTheFirstBadImage() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try PreparationFixtures.images(in: dir)
        do {
            _ = try Self.pack(items, into: dir + "/out", threads: 2, onError: .fail)
            Issue.record("expected an error")
        } catch let error as CodecError {
            #expect(error.code == .truncated)
            #expect(error.path == dir + "/cut.jpg")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/manifest.json"))
    }
}
