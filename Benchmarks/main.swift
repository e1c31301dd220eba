// `make bench`: release-build throughput of dataprep's stages, printed as one table.
// Each row runs its body repeatedly for BENCH_SECONDS (default 3) after a one-second warm-up.
// Codecs rows are compared, in the same run and on the same file, with Debian's `tjbench`
// (libjpeg-turbo-progs), which decodes into a preallocated buffer on one thread.
import Codecs
import Dispatch
import Foundation
import TestSupport

// MARK: - Harness

let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 3

/// Calls `body` (which processes `batch` images per call) for `seconds`; returns images per second.
func rate(batch: Int = 1, _ body: () throws -> Void) rethrows -> Double {
    func run(for duration: Double) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        var calls = 0, elapsed = 0.0
        repeat {
            try body()
            calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < duration
        return Double(calls * batch) / elapsed
    }
    _ = try run(for: min(1, seconds))
    return try run(for: seconds)
}

struct Row {
    var stage: String
    var imagesPerSecond: Double
    var megapixelsPerImage: Double
    var note = ""
}

var rows: [Row] = []
@MainActor func report(_ row: Row) {
    rows.append(row)
    FileHandle.standardError.write(Data("  measured: \(row.stage)\n".utf8))
}

/// Runs tjbench on `path` and returns its decompression frame rate, or nil when it is missing.
func tjbench(_ path: String, scale: String?) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/tjbench")
    process.arguments = [path, "-rgb", "-benchtime", "\(seconds)", "-warmup", "1", "-nowrite"]
        + (scale.map { ["-scale", $0] } ?? [])
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // "Decompress    --> Frame rate:         1939.676282 fps"
    guard let line = output.split(separator: "\n").first(where: { $0.contains("Decompress") && $0.contains("Frame rate") }),
          let value = line.split(separator: " ").dropLast().last else { return nil }
    return Double(value)
}

// MARK: - Codecs

let photo = SyntheticImages.photoLike(width: 500, height: 375, seed: 42)
let jpeg = try JPEGEncoder().encode(photo, options: JPEGEncodeOptions(quality: 90, subsampling: .s420))
let jpegPath = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-500x375-q90.jpg").path
try Data(jpeg).write(to: URL(fileURLWithPath: jpegPath))
defer { try? FileManager.default.removeItem(atPath: jpegPath) }
let fullMP = 500.0 * 375 / 1e6
FileHandle.standardError.write(Data("benchmark file: 500x375 photo-like JPEG, quality 90, 4:2:0, \(jpeg.count) bytes\n".utf8))

let decoder = ImageDecoder()
let full = try rate { _ = try decoder.decode(jpeg) }
report(Row(stage: "JPEG decode 500x375 → RGB, full scale", imagesPerSecond: full, megapixelsPerImage: fullMP))
let tjFull = tjbench(jpegPath, scale: nil)
if let tjFull {
    report(Row(stage: "tjbench -rgb, full scale (same file)", imagesPerSecond: tjFull, megapixelsPerImage: fullMP))
}

let toTarget = DecodeOptions(minimumSize: PixelSize(width: 150, height: 150))
let scaled = try rate { _ = try decoder.decode(jpeg, options: toTarget) }
report(Row(stage: "JPEG decode for a 150x150 target (auto 1/2)", imagesPerSecond: scaled, megapixelsPerImage: fullMP))
let tjHalf = tjbench(jpegPath, scale: "1/2")
if let tjHalf {
    report(Row(stage: "tjbench -rgb -scale 1/2 (same file)", imagesPerSecond: tjHalf, megapixelsPerImage: fullMP))
}

let workers = ProcessInfo.processInfo.activeProcessorCount
let perWorker = 32
let parallel = rate(batch: workers * perWorker) {
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        let decoder = ImageDecoder()
        for _ in 0..<perWorker { _ = try? decoder.decode(jpeg) }
    }
}
report(Row(stage: "JPEG decode, full scale, \(workers) threads", imagesPerSecond: parallel, megapixelsPerImage: fullMP))

let encoder = try JPEGEncoder()
report(Row(stage: "JPEG encode q90 4:2:0", imagesPerSecond: try rate { _ = try encoder.encode(photo) },
           megapixelsPerImage: fullMP))
let png = try PNGEncoder().encode(photo)
report(Row(stage: "PNG decode 500x375 RGB", imagesPerSecond: try rate { _ = try decoder.decode(png) },
           megapixelsPerImage: fullMP))
report(Row(stage: "PNG encode 500x375 RGB", imagesPerSecond: try rate { _ = try PNGEncoder().encode(photo) },
           megapixelsPerImage: fullMP))

// MARK: - Table

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
print(pad("stage", 46) + pad("images/s", 10, right: true) + pad("MP/s", 9, right: true) + "  note")
for var row in rows {
    if row.stage.hasPrefix("JPEG decode 500x375"), let tjFull {
        row.note = String(format: "%.1f%% of tjbench (target ≥ 90%%)", 100 * row.imagesPerSecond / tjFull)
    }
    if row.stage.hasPrefix("JPEG decode for a 150x150"), let tjHalf {
        row.note = String(format: "%.1f%% of tjbench 1/2; %.2fx our full scale", 100 * row.imagesPerSecond / tjHalf,
                          row.imagesPerSecond / full)
    }
    print(pad(row.stage, 46) + pad(String(format: "%.0f", row.imagesPerSecond), 10, right: true)
          + pad(String(format: "%.1f", row.imagesPerSecond * row.megapixelsPerImage), 9, right: true) + "  " + row.note)
}
if tjFull == nil { print("tjbench not found: install libjpeg-turbo-progs (make bench does) for the comparison rows") }
