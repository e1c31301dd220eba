import Foundation
import Shards
import Support
import TestSupport
import Testing

@Suite struct ShardFormatTests {
    @Test func xxhash64MatchesTheReferenceVectors() {
        // Values from the reference implementation (python-xxhash 3.x, seed 0).
        let vectors: [([UInt8], UInt64)] = [
            ([], 0xEF46_DB37_51D8_E999),
            (Array("a".utf8), 0xD24E_C4F1_A98C_6E5B),
            (Array("abc".utf8), 0x44BC_2CF5_AD77_0999),
            (Array("Nobody inspects the spammish repetition".utf8), 0xFBCE_A83C_8A37_8BF1),
            ((0..<768).map { UInt8($0 % 256) }, 0x8E03_C838_C596_036F),
        ]
        for (bytes, expected) in vectors {
            #expect(bytes.withUnsafeBytes { XXHash64.hash($0) } == expected, "\(bytes.count) bytes")
        }
    }

    @Test func recordLayoutAlignsFields() {
        let layout = RecordLayout(height: 5, width: 5, channels: 3, hasSource: true, parameterCount: 3)
        #expect(layout.imageBytes == 75)
        #expect(layout.labelOffset == 76)  // image padded to a multiple of 4
        #expect(layout.sourceOffset == 80)
        #expect(layout.parametersOffset == 84)
        #expect(layout.stride == 96)  // 84 + 12 = 96, a multiple of 8
        let bare = RecordLayout(height: 150, width: 150, channels: 3, hasSource: false, parameterCount: 0)
        #expect(bare.stride == 67_504 && bare.sourceOffset == nil && bare.parametersOffset == nil)
    }

    @Test func roundTripGivesBackExactSamples() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = try writeSyntheticSet(at: dir, count: 23)
        #expect(manifest.shards.map(\.count) == [7, 7, 7, 2])
        #expect(manifest.shards.map(\.file) == ["train-00000.dps", "train-00001.dps", "train-00002.dps", "train-00003.dps"])
        #expect(manifest.count == 23 && manifest.imagesPerCopy == 23 && manifest.copies == 1)

        let set = try ShardSet(directory: dir)
        #expect(set.manifest == manifest)
        for i in 0..<23 {
            #expect(try set.image(i) == syntheticImage(i, bytes: 90))
            #expect(try set.label(i) == i % 3)
            #expect(try set.source(i) == UInt32(i))
            #expect(try set.parameters(i) == [Float(i), -Float(i) / 2])
        }
        try set.verify()
        for shard in manifest.shards {
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/" + shard.file)[.size] as? Int
            #expect(size == shard.bytes)
        }
    }

    @Test func rotationByBytesKeepsShardsUnderTheLimit() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = ImageSpec(width: 10, height: 10, channels: 1)  // stride 104
        let writer = try ShardWriter(directory: dir, split: "validation", spec: spec, hasSource: false, rotation: .init(maxBytes: 1000))
        for i in 0..<20 { try syntheticImage(i, bytes: 100).withUnsafeBytes { try writer.append(image: $0, label: 0) } }
        let manifest = try writer.finish(classNames: ["only"], provenance: provenance)
        #expect(manifest.shards.allSatisfy { $0.bytes <= 1000 })
        #expect(manifest.shards.map(\.count).reduce(0, +) == 20)
        #expect(manifest.shards[0].file == "validation-00000.dps")
    }

    @Test func wrongSampleSizeIsRejected() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try ShardWriter(directory: dir, split: "train", spec: ImageSpec(width: 2, height: 2, channels: 1), hasSource: false)
        do {
            try [UInt8](repeating: 0, count: 5).withUnsafeBytes { try writer.append(image: $0, label: 0) }
            Issue.record("expected an error")
        } catch let error as ShardError {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test(.enabled(if: Python.hasNumpy, Python.numpyMissing))
    func numpyReadsAShardWithMemmap() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 10, maxSamples: nil)
        // docs/shard-format.md's recipe, line for line (with this set's folder), then checks.
        let script = """
            import json, numpy as np
            m = json.load(open("\(dir)/manifest.json")); L = m["layout"]; shard = m["shards"][0]
            names, formats, offsets = ["image", "label"], [(np.uint8, (L["height"], L["width"], L["channels"])), "<i4"], [0, L["labelOffset"]]
            if L.get("sourceOffset") is not None: names += ["source"]; formats += ["<u4"]; offsets += [L["sourceOffset"]]
            rec = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": L["stride"]})
            data = np.memmap("\(dir)/" + shard["file"], dtype=rec, mode="r", offset=128, shape=(shard["count"],))
            images, labels = data["image"], data["label"]          # (N, H, W, C) uint8 and (N,) int32
            assert list(labels) == [i % 3 for i in range(10)], labels
            assert list(data["source"]) == list(range(10))
            assert images.shape == (10, 5, 6, 3)
            for i in range(10):
                assert (images[i].reshape(-1) == (np.arange(90) * 7 + i * 31) % 256).all(), i
            """
        #expect(Python.run(["-c", script]).status == 0)
    }
}
