import Codecs
import Foundation
import Preparation
import Shards
import Support
import Testing

/// The ring and the in-order appending of `ShardPreparation` over many images (many turns of the
/// ring), with a preparer that needs no files: record bytes, source ids, skips, the first
/// failure and progress are the same whatever the thread count, copies and part.
@Suite struct ShardPreparationScheduleTests {
    /// Writes bytes that depend only on (index, copy), with a parameter of each, and fails the
    /// images `bad` (after a delay that depends on the thread, so the order of finishing varies).
    final class SyntheticPreparer: RecordPreparer {
        let bad: Set<Int>
        let worker: Int

        init(bad: Set<Int>, worker: Int) {
            self.bad = bad
            self.worker = worker
        }

        func prepare(
            _ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer
        ) throws
            -> (parameters: [Float], warning: String?)
        {
            if (index + worker) % 7 == 0 { usleep(200) }
            if bad.contains(index) { throw CodecError(.corrupt, "bad image \(index)") }
            for i in image.indices { image[i] = UInt8(truncatingIfNeeded: index &* 31 &+ copy &* 7 &+ i) }
            return ([Float(index), Float(copy)], index % 97 == 0 ? "warning \(index)" : nil)
        }
    }

    struct Run {
        var files: [String: [UInt8]]
        var report: PreparationReport
        var progress: [Int]
    }

    func run(
        count: Int, range: Range<Int>? = nil, copies: Int, threads: Int, bad: Set<Int> = [], onError: ErrorPolicy = .skip
    ) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("schedule-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = (0..<count).map { PreparationItem(path: "/nowhere/\($0).jpg", label: $0 % 3) }
        let writer = try ShardWriter(
            directory: dir, split: "train", spec: ImageSpec(width: 5, height: 4, channels: 3), parameterCount: 2,
            rotation: .init(maxSamples: 100))
        var progress: [Int] = []
        var made = 0
        let report = try ShardPreparation.run(
            items: items, range: range, copies: copies, writer: writer, threads: threads, onError: onError,
            progress: { progress.append($0) }
        ) {
            made += 1
            return SyntheticPreparer(bad: bad, worker: made)
        }
        #expect(made == threads)
        try writer.finish(
            classNames: ["a", "b", "c"], parameterNames: ["i", "c"], copies: copies, sources: items.map(\.path),
            provenance: .init(dataset: "t", tool: "t", options: [:], seed: nil))
        try ShardSet(directory: dir).verify()
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".dps") {
            files[name] = try FileIO.readFile(at: dir + "/" + name)
        }
        return Run(files: files, report: report, progress: progress)
    }

    @Test func recordsAreTheSameWhateverTheThreadCount() throws {
        let bad: Set<Int> = [0, 5, 64, 300, 999]
        let reference = try run(count: 1000, copies: 1, threads: 1, bad: bad)
        #expect(reference.report.written == 995)
        #expect(reference.report.skipped.map(\.message) == bad.sorted().map { "bad image \($0)" })
        #expect(reference.report.warnings.map(\.warning) == stride(from: 97, to: 1000, by: 97).map { "warning \($0)" })
        #expect(reference.progress.last == 1000 && reference.progress == reference.progress.sorted())
        for threads in [2, 3, 5] {
            let other = try run(count: 1000, copies: 1, threads: threads, bad: bad)
            #expect(other.files == reference.files, "\(threads) threads")
            #expect(other.report.skipped.map(\.message) == reference.report.skipped.map(\.message))
            #expect(other.report.warnings.map(\.warning) == reference.report.warnings.map(\.warning))
            #expect(other.progress.last == 1000)
        }
    }

    @Test func copiesAndPartsGiveTheRecordsOfTheWhole() throws {
        let whole = try run(count: 700, copies: 3, threads: 2)
        #expect(whole.report.written == 700)
        let three = try run(count: 700, copies: 3, threads: 3)
        #expect(three.files == whole.files)
        let part = try run(count: 700, range: 250..<600, copies: 3, threads: 2)
        #expect(part.report.written == 350 && part.progress.last == 350)
        // The part's first record is image 250's first copy: its bytes and source id.
        let first = part.files["train-00000.dps"]!
        let layout = RecordLayout(height: 4, width: 5, channels: 3, hasSource: true, parameterCount: 2)
        let record = Array(first[128..<128 + layout.stride])
        #expect(Array(record[0..<layout.imageBytes]) == (0..<layout.imageBytes).map { UInt8(truncatingIfNeeded: 250 * 31 + $0) })
        #expect(record[layout.sourceOffset!..<layout.sourceOffset! + 4].elementsEqual([250, 0, 0, 0]))
    }

    @Test func theFailPolicyThrowsTheFirstBadImageInInputOrder() throws {
        for threads in [1, 2, 4] {
            do {
                _ = try run(count: 900, copies: 2, threads: threads, bad: [850, 411, 412], onError: .fail)
                Issue.record("expected an error")
            } catch let error as CodecError {
                #expect(error.message == "bad image 411", "\(threads) threads")
                #expect(error.path == "/nowhere/411.jpg")
            }
        }
    }

    @Test func fewerImagesThanThreadsAndNoneAtAll() throws {
        let two = try run(count: 2, copies: 1, threads: 4)
        #expect(two.report.written == 2 && two.progress == [2])
        let none = try run(count: 10, range: 4..<4, copies: 1, threads: 2)
        #expect(none.report.written == 0 && none.progress.isEmpty && none.files.isEmpty)
    }
}
