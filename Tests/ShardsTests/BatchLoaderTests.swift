import Dispatch
import Foundation
import Shards
import TestSupport
import Testing

@Suite struct BatchLoaderTests {
    func withSet(
        count: Int = 23, copies: Int = 1, rescale: Float = ImageSpec.defaultRescale,
        _ body: (ShardSet) throws -> Void
    ) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeSyntheticSet(at: dir, count: count, copies: copies, spec: ImageSpec(width: 6, height: 5, channels: 3, rescale: rescale))
        try body(try ShardSet(directory: dir))
    }

    /// Every batch of one epoch, copied out.
    func read(_ set: ShardSet, _ options: BatchOptions, epoch: Int) throws -> [(samples: [Int], images: [Float], labels: [Int32])] {
        let loader = try BatchLoader(set: set, options: options)
        let batches = loader.epoch(epoch)
        var out: [(samples: [Int], images: [Float], labels: [Int32])] = []
        while let batch = try batches.next() {
            out.append((Array(batch.samples), Array(batch.images), batch.labels.map(Array.init) ?? []))
        }
        return out
    }

    @Test func epochOrdersArePermutationsThatRepeatForASeedAndDifferBetweenEpochs() {
        let a0 = EpochOrder.samples(imagesPerCopy: 1000, copies: 1, epoch: 0, shuffle: true, seed: 42)
        let a1 = EpochOrder.samples(imagesPerCopy: 1000, copies: 1, epoch: 1, shuffle: true, seed: 42)
        #expect(a0.sorted() == Array(0..<1000))
        #expect(a1.sorted() == Array(0..<1000))
        #expect(a0 != a1)
        #expect(a0 == EpochOrder.samples(imagesPerCopy: 1000, copies: 1, epoch: 0, shuffle: true, seed: 42))
        #expect(a0 != EpochOrder.samples(imagesPerCopy: 1000, copies: 1, epoch: 0, shuffle: true, seed: 43))
        #expect(EpochOrder.samples(imagesPerCopy: 5, copies: 1, epoch: 3, shuffle: false, seed: 1) == [0, 1, 2, 3, 4])
    }

    @Test func batchesHoldExactRescaledSamplesInNHWC() throws {
        try withSet { set in
            let batches = try read(set, BatchOptions(batchSize: 10, shuffle: false), epoch: 0)
            #expect(batches.map(\.samples.count) == [10, 10, 3])
            for batch in batches {
                for (row, sample) in batch.samples.enumerated() {
                    let expected = syntheticImage(sample, bytes: 90).map { Float($0) * (1 / 255) }
                    #expect(Array(batch.images[row * 90..<(row + 1) * 90]) == expected)
                    #expect(batch.labels[row] == Int32(sample % 3))
                }
            }
        }
    }

    @Test func nchwTransposesAndOneHotEncodes() throws {
        try withSet(rescale: 1) { set in  // the set's spec says the rescale; the reader takes it from there
            let loader = try BatchLoader(
                set: set,
                options: BatchOptions(
                    batchSize: 4, layout: .nchw, labels: .oneHot,
                    shuffle: false))
            let epoch = loader.epoch(0)
            let batch = try #require(try epoch.next())
            let image = syntheticImage(1, bytes: 90)  // 5 × 6 × 3, HWC
            for c in 0..<3 {
                for p in 0..<30 { #expect(batch.images[90 + c * 30 + p] == Float(image[p * 3 + c])) }
            }
            #expect(Array(batch.oneHot![0..<12]) == [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0])
            #expect(batch.labels == nil)
        }
    }

    @Test func orderAndContentDoNotDependOnPrefetchOrThreads() throws {
        try withSet(count: 97) { set in
            let reference = try read(set, BatchOptions(batchSize: 8, seed: 5, prefetch: 1, threads: 1), epoch: 2)
            for (prefetch, threads) in [(2, 2), (5, 3), (16, 4)] {
                let other = try read(set, BatchOptions(batchSize: 8, seed: 5, prefetch: prefetch, threads: threads), epoch: 2)
                #expect(other.map(\.samples) == reference.map(\.samples))
                #expect(other.map(\.images) == reference.map(\.images))
            }
            let samples = reference.flatMap(\.samples)
            #expect(samples.sorted() == Array(0..<97))
            #expect(samples != Array(0..<97))
        }
    }

    @Test func copiesAreReadOnePerEpoch() throws {
        try withSet(count: 12, copies: 3) { set in
            for epoch in 0..<5 {
                let samples = try read(set, BatchOptions(batchSize: 5, seed: 1), epoch: epoch).flatMap(\.samples)
                let copy = epoch % 3
                #expect(samples.sorted() == (0..<4).map { $0 * 3 + copy })
            }
        }
    }

    @Test func stallTimeIsMeasured() throws {
        try withSet(count: 60) { set in
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 10, prefetch: 2))
            let epoch = loader.epoch(0)
            var count = 0
            while try epoch.next() != nil { count += 1 }
            #expect(count == 6)
            #expect(epoch.stallSeconds >= 0 && epoch.stallSeconds < 5)
        }
    }

    @Test func cancellingMidEpochReturnsPromptly() throws {
        try withSet(count: 200) { set in
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 2, prefetch: 2, threads: 2))
            let epoch = loader.epoch(0)
            _ = try epoch.next()  // workers are now blocked on a full ring
            let start = DispatchTime.now().uptimeNanoseconds
            epoch.cancel()
            #expect(DispatchTime.now().uptimeNanoseconds - start < 1_000_000_000)
            do {
                _ = try epoch.next()
                Issue.record("expected cancelled")
            } catch let error as ShardError {
                #expect(error.code == .cancelled)
            }
            // The loader starts the next epoch cleanly.
            var batches = 0
            let next = loader.epoch(1)
            while try next.next() != nil { batches += 1 }
            #expect(batches == 100)
        }
    }

    @Test func ranksShareEachEpochOnceAndDropLastEvensTheirBatches() throws {
        try withSet(count: 23) { set in
            let whole = try read(set, BatchOptions(batchSize: 4, seed: 9), epoch: 1)
            let order = whole.flatMap(\.samples)
            var seen: [Int] = []
            for rank in 0..<3 {
                let share = try read(set, BatchOptions(batchSize: 4, seed: 9, rank: rank, worldSize: 3), epoch: 1)
                let samples = share.flatMap(\.samples)
                #expect(samples == stride(from: rank, to: 23, by: 3).map { order[$0] })  // as DistributedSampler
                seen += samples
            }
            #expect(seen.sorted() == Array(0..<23))
            for rank in 0..<2 {  // 23 → 16: two ranks of two full batches of 4
                let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 4, dropLast: true, rank: rank, worldSize: 2))
                #expect(loader.batchesPerEpoch == 2 && loader.samplesPerEpoch == 8)
            }
            #expect(throws: ShardError.self) { try BatchLoader(set: set, options: BatchOptions(batchSize: 4, rank: 2, worldSize: 2)) }
        }
    }

    @Test func anEpochStartedAtABatchGivesTheSameLaterBatches() throws {
        try withSet(count: 41) { set in
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 4, seed: 2, prefetch: 3, threads: 2))
            var all: [[Float]] = []
            let epoch = loader.epoch(3)
            while let batch = try epoch.next() { all.append(Array(batch.images)) }
            let later = loader.epoch(3, from: 7)
            var rest: [[Float]] = []
            while let batch = try later.next() { rest.append(Array(batch.images)) }
            #expect(rest == Array(all[7...]))
            #expect(try loader.epoch(3, from: all.count).next() == nil)
        }
    }

    @Test func uint8BatchesAreTheStoredBytesInTheCallersRing() throws {
        try withSet(count: 9) { set in
            let images = (0..<2).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 4 * 90, alignment: 16) }
            let labels = (0..<2).map { _ in UnsafeMutablePointer<Int32>.allocate(capacity: 4) }
            defer {
                for image in images { image.deallocate() }
                for label in labels { label.deallocate() }
            }
            let loader = try BatchLoader(
                set: set, options: BatchOptions(batchSize: 4, layout: .nchw, element: .uint8, shuffle: false, prefetch: 2),
                ring: zip(images, labels).map { BatchMemory(images: $0, labels: $1) })
            let epoch = loader.epoch(0)
            var index = 0
            while let batch = try epoch.next() {
                #expect(batch.imageBytes.baseAddress == UnsafeRawPointer(images[index % 2]))  // batch k in slot k mod 2
                for (row, sample) in batch.samples.enumerated() {
                    let image = syntheticImage(sample, bytes: 90)
                    for c in 0..<3 {
                        for p in 0..<30 { #expect(batch.imageBytes[row * 90 + c * 30 + p] == image[p * 3 + c]) }
                    }
                    #expect(batch.labels![row] == Int32(sample % 3))
                }
                index += 1
            }
            #expect(index == 3)
            #expect(throws: ShardError.self) {
                try BatchLoader(
                    set: set, options: BatchOptions(batchSize: 4, prefetch: 3), ring: [BatchMemory(images: images[0], labels: labels[0])])
            }
        }
    }
}
