import Foundation
import Shards
import TestSupport
import Testing

/// Every kind of damage gives a typed error that names the place.
@Suite struct ShardDamageTests {
    func expectShardError(
        _ code: ShardError.Code, file: String? = nil, sample: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) {
        guard let error = expectError(ShardError.self, code, sourceLocation: sourceLocation, body) else { return }
        if let file { #expect(error.file?.hasSuffix(file) == true, "\(error)", sourceLocation: sourceLocation) }
        if let sample { #expect(error.sample == sample, "\(error)", sourceLocation: sourceLocation) }
    }

    func withSet(_ body: (String, ShardManifest) throws -> Void) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir, try writeSyntheticSet(at: dir, count: 23))
    }

    /// Every hostile set of ``ManifestDamage`` is refused with its code when opened (or, for a
    /// crafted record, when read), by the set and by the batch reader: never a trap, never a set
    /// read in part.
    @Test(arguments: ManifestDamage.cases.indices)
    func aHostileManifestIsRefusedWithItsCode(_ index: Int) throws {
        let damage = ManifestDamage.cases[index]
        try withSet { dir, _ in
            try damage.apply(to: dir)
            if let code = damage.open {
                expectShardError(code, sourceLocation: #_sourceLocation) { _ = try ShardSet(directory: dir) }
                return
            }
            let set = try ShardSet(directory: dir)
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 5, shuffle: false))
            func readEpoch() throws {
                let batches = loader.epoch(0)
                while try batches.next() != nil {}
            }
            if let code = damage.verify {
                expectShardError(code) { try set.verify() }
                expectShardError(code) { try readEpoch() }
            } else {
                try set.verify()
                try readEpoch()
            }
        }
    }

    @Test func aFlippedRecordByteIsFoundWithShardAndSample() throws {
        try withSet { dir, manifest in
            let stride = manifest.layout.stride
            try flipByte(in: dir + "/train-00001.dps", at: 128 + 4 * stride + 17)  // shard 1, sample 4
            let set = try ShardSet(directory: dir)
            expectShardError(.checksumMismatch, file: "train-00001.dps", sample: 4) { try set.verify() }
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 23, shuffle: false))
            expectShardError(.checksumMismatch, file: "train-00001.dps", sample: 4) { _ = try loader.epoch(0).next() }
        }
    }

    @Test func aDamagedHeaderIsBadHeader() throws {
        try withSet { dir, _ in
            try flipByte(in: dir + "/train-00002.dps", at: 30)
            expectShardError(.badHeader, file: "train-00002.dps") { _ = try ShardSet(directory: dir) }
        }
    }

    @Test func aDamagedChecksumTableIsFound() throws {
        try withSet { dir, manifest in
            try flipByte(in: dir + "/train-00000.dps", at: 128 + 7 * manifest.layout.stride + 3)
            let set = try ShardSet(directory: dir)
            expectShardError(.badHeader, file: "train-00000.dps") { try set.verify() }
        }
    }

    @Test func aTruncatedShardIsTruncated() throws {
        try withSet { dir, _ in
            let path = dir + "/train-00001.dps"
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 500)
            try handle.close()
            expectShardError(.truncated, file: "train-00001.dps") { _ = try ShardSet(directory: dir) }
        }
    }

    @Test func aMissingShardIsNamed() throws {
        try withSet { dir, _ in
            try FileManager.default.removeItem(atPath: dir + "/train-00003.dps")
            expectShardError(.missingShard, file: "train-00003.dps") { _ = try ShardSet(directory: dir) }
        }
    }

    @Test func aManifestThatDisagreesIsAMismatch() throws {
        try withSet { dir, manifest in
            var edited = manifest
            edited.shards[1].digest = "0123456789abcdef"  // a valid digest, not the shard's
            let encoder = JSONEncoder()
            try encoder.encode(edited).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
            expectShardError(.manifestMismatch, file: "train-00001.dps") { _ = try ShardSet(directory: dir) }
        }
        try withSet { dir, _ in
            try FileManager.default.removeItem(atPath: dir + "/manifest.json")
            expectShardError(.manifestMismatch, file: "manifest.json") { _ = try ShardSet(directory: dir) }
        }
    }

    @Test func aFolderWithoutManifestIsNotAShardSetAndOnlyShardsSuggestAnInterruptedWrite() throws {
        try withSet { dir, _ in
            try FileManager.default.removeItem(atPath: dir + "/manifest.json")
            #expect {
                _ = try ShardSet(directory: dir)
            } throws: { error in
                let message = (error as? ShardError)?.message ?? ""
                return message.hasPrefix("not a shard set: no manifest.json") && message.contains("an interrupted write leaves none")
            }
        }
        let empty = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect {
            _ = try ShardSet(directory: empty)
        } throws: { error in
            (error as? ShardError)?.message == "not a shard set: no manifest.json"
        }
    }

    @Test func notAShardIsBadMagic() throws {
        try withSet { dir, _ in
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: dir + "/train-00000.dps"))
            expectShardError(.badMagic, file: "train-00000.dps") { _ = try ShardSet(directory: dir) }
        }
    }

    @Test func anAbandonedWriterLeavesTheOldSetAsItWas() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 10)
        let before = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        do {  // a second run that stops half-way (the writer is dropped without finish)
            let writer = try ShardWriter(
                directory: dir, split: "train", spec: ImageSpec(width: 6, height: 5, channels: 3),
                hasSource: true, parameterCount: 2,
                rotation: .init(maxSamples: 4))
            for i in 0..<6 {
                try syntheticImage(i, bytes: 90).withUnsafeBytes {
                    try writer.append(image: $0, label: 0, source: UInt32(i), parameters: [0, 0])
                }
            }
        }
        // The old set is complete and untouched; nothing of the new one is left (no staging folder).
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == before)
        let old = try ShardSet(directory: dir)
        #expect(old.count == 10)
        try old.verify()
        // Running again replaces it.
        try writeSyntheticSet(at: dir, count: 12)
        #expect(try ShardSet(directory: dir).count == 12)
    }

    @Test func aStagedSetReplacesTheOldOneOnlyWhenCommitted() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 10, maxSamples: 3)  // 4 shards
        let writer = try ShardWriter(
            directory: dir, split: "train", spec: ImageSpec(width: 6, height: 5, channels: 3), hasSource: false, parameterCount: 2)
        for i in 0..<5 {
            try syntheticImage(i, bytes: 90).withUnsafeBytes { try writer.append(image: $0, label: i % 3, parameters: [0, 0]) }
        }
        let staged = try writer.stage(classNames: ["class0", "class1", "class2"], parameterNames: ["theta", "tx"], provenance: provenance)
        #expect(try ShardSet(directory: dir).count == 10)  // complete, not yet replaced
        try staged.commit()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["manifest.json", "train-00000.dps"])  // the old set's other shards are gone
        #expect(try ShardSet(directory: dir).count == 5)
    }

    @Test func aSetOfAnotherShapeIsReplacedOnlyWhenAllowed() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 4)
        func write(split: String, replacing: ShardWriter.Replacement) throws {
            let writer = try ShardWriter(
                directory: dir, split: split, spec: ImageSpec(width: 6, height: 5, channels: 3), hasSource: false, replacing: replacing)
            for i in 0..<2 { try syntheticImage(i, bytes: 90).withUnsafeBytes { try writer.append(image: $0, label: i) } }
            try writer.finish(classNames: ["class0", "class1"], provenance: provenance)
        }
        let error = expectError(ShardError.self, .invalidArgument) { try write(split: "validation", replacing: .sameShape) }
        #expect(error?.message.contains("differ in split, classes, record parameters") == true, "\(String(describing: error))")
        #expect(try ShardSet(directory: dir).manifest.split == "train")
        try write(split: "validation", replacing: .anything)
        let replaced = try ShardSet(directory: dir)
        #expect(replaced.manifest.split == "validation" && replaced.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["manifest.json", "validation-00000.dps"])
    }
}
