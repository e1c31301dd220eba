import Codecs
import Dispatch
import TestSupport
import Testing

@Suite struct ConcurrencyTests {
    /// One decoder per worker (decoders are not Sendable), many workers at once: every result must
    /// equal the single-threaded one.
    @Test func manyThreadsDecodeTheSamePixelsAsOne() throws {
        let encoder = try JPEGEncoder()
        let files: [[UInt8]] = try (0..<6).map { i in
            let photo = SyntheticImages.photoLike(width: 120 + i * 8, height: 90, seed: UInt64(i))
            return i % 3 == 2
                ? try PNGEncoder().encode(photo)
                : try encoder.encode(photo, options: JPEGEncodeOptions(progressive: i % 2 == 1))
        }
        let options = [DecodeOptions(), DecodeOptions(pixelFormat: .gray), DecodeOptions(minimumSize: PixelSize(width: 40, height: 30))]
        let decoder = ImageDecoder()
        let reference = try files.map { file in try options.map { try decoder.decode(file, options: $0).image } }

        let jobs = 240
        let results = UnsafeMutableBufferPointer<Image?>.allocate(capacity: jobs)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let decoder = ImageDecoder()
            for job in stride(from: worker, to: jobs, by: 8) {
                let file = files[job % files.count], option = options[(job / files.count) % options.count]
                slots[job] = try? decoder.decode(file, options: option).image
            }
        }
        for job in 0..<jobs {
            #expect(results[job] == reference[job % files.count][(job / files.count) % options.count], "job \(job)")
        }
    }
}
