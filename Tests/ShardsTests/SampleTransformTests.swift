import Foundation
import Shards
import TestSupport
import Testing

/// The reader's per-sample transform seam: batches rendered in the workers are the same whatever
/// the thread count or prefetch depth, and depend on the epoch.
@Suite struct SampleTransformTests {
    /// A 4×3×3 output whose every byte is a function of (stored bytes, sample, epoch).
    final class Stamp: SampleTransform {
        static let output = ImageSpec(width: 4, height: 3, channels: 3, rescale: 1)

        func render(stored: UnsafeRawBufferPointer, sample: Int, epoch: Int, into output: UnsafeMutableRawBufferPointer) {
            for k in 0..<output.count {
                output[k] = stored[(k * 5) % stored.count] &+ UInt8(truncatingIfNeeded: sample &* 7 &+ epoch &* 13 &+ k)
            }
        }

        static var transformation: SampleTransformation { SampleTransformation(output: output) { Stamp() } }
    }

    /// Every batch of `epochs`, flattened: (samples, images).
    func read(_ set: ShardSet, _ options: BatchOptions, epochs: Range<Int>) throws -> [([Int], [Float])] {
        let loader = try BatchLoader(set: set, options: options, transformation: Stamp.transformation)
        var out: [([Int], [Float])] = []
        for epoch in epochs {
            let batches = loader.epoch(epoch)
            while let batch = try batches.next() { out.append((Array(batch.samples), Array(batch.images))) }
        }
        return out
    }

    @Test func batchesAreTheSameWhateverTheThreadsAndPrefetchAndFollowTheTransform() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 23)
        let set = try ShardSet(directory: dir)
        let reference = try read(set, BatchOptions(batchSize: 5, seed: 4, prefetch: 1, threads: 1), epochs: 0..<3)
        for threads in [1, 2, 3] {
            for prefetch in [1, 4] {
                let batches = try read(set, BatchOptions(batchSize: 5, seed: 4, prefetch: prefetch, threads: threads), epochs: 0..<3)
                #expect(batches.map(\.0) == reference.map(\.0), "threads \(threads), prefetch \(prefetch)")
                #expect(batches.map(\.1) == reference.map(\.1), "threads \(threads), prefetch \(prefetch)")
            }
        }
        // Each image is the transform of its stored sample in its epoch, at the output spec's size.
        let perEpoch = (23 + 4) / 5
        for (number, (samples, images)) in reference.enumerated() {
            let epoch = number / perEpoch
            #expect(images.count == samples.count * Stamp.output.elementCount)
            for (row, sample) in samples.enumerated() {
                var expected = [UInt8](repeating: 0, count: Stamp.output.byteCount)
                syntheticImage(sample, bytes: 90).withUnsafeBytes { stored in
                    expected.withUnsafeMutableBytes { Stamp().render(stored: stored, sample: sample, epoch: epoch, into: $0) }
                }
                let slice = images[row * 36..<(row + 1) * 36]
                #expect(Array(slice) == expected.map(Float.init))
            }
        }
    }

    @Test func aTransformThatChangesTheChannelsIsRefused() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: 4)
        let gray = SampleTransformation(output: ImageSpec(width: 4, height: 3, channels: 1)) { Stamp() }
        expectError(ShardError.self, .invalidArgument) {
            try BatchLoader(set: try ShardSet(directory: dir), options: BatchOptions(batchSize: 2), transformation: gray)
        }
    }
}
