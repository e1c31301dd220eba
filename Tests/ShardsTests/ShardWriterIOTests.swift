import Foundation
import Support
import TestSupport
import Testing

@testable import Shards

/// The writer's two ways to the disk (direct I/O, where the file system takes it, and the page
/// cache) give the same files, whatever the shard size: below one block, within the 4 MiB buffer,
/// and over several buffers (where the header goes into the kept first block); and a record
/// completed and checksummed by its producer is the record `append(image:…)` writes.
@Suite struct ShardWriterIOTests {
    /// Writes `count` samples of 20×20×3 (stride 1,216) with shards of at most `maxBytes`, through
    /// `append(image:…)` or, when `records`, through completed records; returns each shard's bytes.
    func write(count: Int, maxBytes: Int, direct: Bool, records: Bool) throws -> [String: [UInt8]] {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = ImageSpec(width: 20, height: 20, channels: 3)
        let writer = try ShardWriter(
            directory: dir, split: "train", spec: spec, parameterCount: 2, rotation: .init(maxBytes: maxBytes))
        writer.triesDirectIO = direct
        let layout = writer.layout
        let record = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.stride, alignment: 8)
        defer { record.deallocate() }
        let images = (0..<7).map { syntheticImage($0, bytes: layout.imageBytes) }
        for i in 0..<count {
            let image = images[i % images.count]
            let parameters = [Float(i), -Float(i) / 3]
            if records {
                record.initializeMemory(as: UInt8.self, repeating: 0xEE)  // completeRecord must zero the padding
                image.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: record[..<layout.imageBytes]).copyMemory(from: $0) }
                layout.completeRecord(record, label: i % 5, source: UInt32(i), parameters: parameters)
                try writer.append(record: UnsafeRawBufferPointer(record), checksum: XXHash64.hash(UnsafeRawBufferPointer(record)))
            } else {
                try image.withUnsafeBytes { try writer.append(image: $0, label: i % 5, source: UInt32(i), parameters: parameters) }
            }
        }
        let manifest = try writer.finish(
            classNames: ["a", "b", "c", "d", "e"], parameterNames: ["p", "q"], sources: (0..<count).map { "\($0).jpg" },
            provenance: provenance)
        let set = try ShardSet(directory: dir)
        try set.verify()
        #expect(set.count == count)
        var files: [String: [UInt8]] = [:]
        for shard in manifest.shards {
            let bytes = try FileIO.readFile(at: dir + "/" + shard.file)
            #expect(bytes.count == shard.bytes)
            files[shard.file] = bytes
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasSuffix(".partial") })
        return files
    }

    @Test(arguments: [(1, 1 << 30), (3, 1 << 30), (300, 1 << 30), (9_000, 1 << 30), (9_000, 5_000_000), (7_000, 4_200_000)])
    func directAndPageCacheWritesGiveTheSameFiles(count: Int, maxBytes: Int) throws {
        let reference = try write(count: count, maxBytes: maxBytes, direct: false, records: false)
        #expect(try write(count: count, maxBytes: maxBytes, direct: true, records: false) == reference)
        #expect(try write(count: count, maxBytes: maxBytes, direct: true, records: true) == reference)
        #expect(try write(count: count, maxBytes: maxBytes, direct: false, records: true) == reference)
    }

    @Test func aRecordOfTheWrongSizeIsRejected() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try ShardWriter(directory: dir, split: "train", spec: ImageSpec(width: 2, height: 2, channels: 1), hasSource: false)
        do {
            try [UInt8](repeating: 0, count: writer.layout.stride + 1).withUnsafeBytes { try writer.append(record: $0, checksum: 0) }
            Issue.record("expected an error")
        } catch let error as ShardError {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func theOldSetStaysUntilTheNewOneIsCommittedInItsPlace() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = ImageSpec(width: 6, height: 5, channels: 3)
        try writeSyntheticSet(at: dir, count: 20, spec: spec)  // train-00000 … train-00002
        // Another split's shard stays; a partial shard a killed writer left beside the set goes.
        for name in ["validation-00000.dps", "train-00004.dps.partial"] {
            #expect(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([1, 2, 3])))
        }
        let before = try ShardSet(directory: dir).count
        let writer = try ShardWriter(
            directory: dir, split: "train", spec: spec, rotation: .init(maxSamples: 7), replacing: .anything)
        for i in 0..<9 {
            try syntheticImage(i, bytes: 90).withUnsafeBytes { try writer.append(image: $0, label: 0, source: UInt32(i)) }
        }
        // While it runs, the old set is whole and readable.
        #expect(try ShardSet(directory: dir).count == before)
        try writer.finish(classNames: ["a", "b"], sources: (0..<9).map { "\($0)" }, provenance: provenance)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["manifest.json", "train-00000.dps", "train-00001.dps", "validation-00000.dps"])
        let set = try ShardSet(directory: dir)
        try set.verify()
        #expect(set.count == 9)
    }
}
