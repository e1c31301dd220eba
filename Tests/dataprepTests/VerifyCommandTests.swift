import Foundation
import TestSupport
import Testing

/// `dataprep verify SET` checks the set and the validation set beside it, one line each, and
/// names the shard and sample of damage in either.
@Suite struct VerifyCommandTests {
    @Test func verifyChecksTheValidationSetToo() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, _) = try TrainCommandTests.packedGrayClasses(in: dir)
        let both = try runDataprep(["verify", shards])
        #expect(both.status == 0, "\(both.stderr)")
        #expect(
            both.stdout
                == "ok: \(shards): 80 samples in 1 shard, every checksum matches\n"
                + "ok: \(shards)/validation: 80 samples in 1 shard, every checksum matches\n")

        let alone = try runDataprep(["verify", shards + "/validation"])
        #expect(alone.stdout == "ok: \(shards)/validation: 80 samples in 1 shard, every checksum matches\n")

        // A flipped byte in the validation set's first record is found and named.
        let shard = shards + "/validation/validation-00000.dps"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[128] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: shard))
        let damaged = try runDataprep(["verify", shards])
        #expect(damaged.status == 1)
        #expect(damaged.stdout == "ok: \(shards): 80 samples in 1 shard, every checksum matches\n")
        #expect(damaged.stderr.hasPrefix("error: checksumMismatch: \(shard)"), "\(damaged.stderr)")
    }
}
