import Fetch
import Foundation
import TestSupport
import Testing

@Suite struct DecompressTests {
    @Test func gzipStreamsBackTheOriginalBytes() throws {
        let original = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dp-\(UUID()).gz").path
        try Data(ArchiveBuilder.gzip(original)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var restored: [UInt8] = []
        try forEachDecompressedChunk(ofFile: path) { restored.append(contentsOf: $0) }
        #expect(restored == original)
    }

    @Test func truncatedGzipIsABadArchive() throws {
        let gz = ArchiveBuilder.gzip((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dp-\(UUID()).gz").path
        try Data(gz.prefix(gz.count / 2)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectFetchError(.badArchive) { try forEachDecompressedChunk(ofFile: path) { _ in } }
    }
}
