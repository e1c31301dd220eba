import Codecs
import Fetch
import Foundation
import TestSupport

/// Extraction of an image-dataset archive (3000 photo-like JPEGs of about 60 KB in 10 class
/// folders) with `extractArchive`, against Debian's `bsdtar -xf ARCHIVE -C DIR` (libarchive-tools,
/// the same libarchive) on the same file in the same run. Runs alternate, ours then bsdtar, and the
/// best of 3 each is kept to damp VM noise; bsdtar's time includes starting the process. Files go
/// to the temporary directory (`TMPDIR`): on a VM's virtual disk, write-back makes both tools swing
/// by 2× between runs, so `TMPDIR=/dev/shm` is what compares the code.
func extractionBenchmarks() throws -> Section {
    let fileCount = 3000, classes = 10
    progress("Extraction: encoding JPEGs")
    let encoder = try JPEGEncoder()
    // 16 distinct images, stored under 3000 distinct names (the archive holds every copy).
    let jpegs = try (0..<16).map { seed in
        try encoder.encode(
            SyntheticImages.photoLike(width: 500, height: 375, seed: UInt64(seed + 1)),
            options: JPEGEncodeOptions(quality: 90, subsampling: .s420))
    }
    let entries = (0..<fileCount).map { i in
        ArchiveBuilder.Entry.file("train/class\(i % classes)/image\(String(format: "%05d", i)).jpg", jpegs[i % jpegs.count])
    }
    let totalBytes = Double((0..<fileCount).reduce(0) { $0 + jpegs[$1 % jpegs.count].count })

    let work = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-extract-\(getpid())").path
    removeFolder(work)
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { removeFolder(work) }

    var rows: [Row] = []
    for (format, label) in [(ArchiveBuilder.Format.zip, "zip (deflate)"), (.zipStored, "zip (stored)"), (.tarGzip, "tar.gz")] {
        progress("Extraction: \(label)")
        let archive = work + "/dataset." + format.fileExtension
        try ArchiveBuilder.write(entries, format: format, to: archive)
        let archiveBytes = (try FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int) ?? 0
        let ours = work + "/ours", theirs = work + "/bsdtar"

        var best = (ours: Double.infinity, bsdtar: Double.infinity)
        var bsdtarFailed = false
        for _ in 0..<3 {
            var report: ExtractionReport?
            best.ours = min(best.ours, try seconds { report = try extractArchive(atPath: archive, into: ours) })
            guard report?.files == fileCount else {
                throw BenchmarkFailure(description: "extracted \(report?.files ?? 0) of \(fileCount) files from \(archive)")
            }
            removeFolder(ours)

            try FileManager.default.createDirectory(atPath: theirs, withIntermediateDirectories: false)
            var status: Int32?
            best.bsdtar = min(
                best.bsdtar, seconds { status = (try? runProgram("/usr/bin/bsdtar", ["-xf", archive, "-C", theirs]))?.status })
            bsdtarFailed = bsdtarFailed || status != 0
            removeFolder(theirs)
        }

        func row(_ stage: String, _ time: Double, note: String = "") -> Row {
            Row(
                stage: stage, rate: Double(fileCount) / time, unit: "files/s",
                throughput: String(format: "%.0f MB/s", totalBytes / time / 1e6), note: note)
        }
        let size = String(format: "%.0f MB", Double(archiveBytes) / 1e6)
        if bsdtarFailed {
            rows.append(row("extract \(label), \(size), ours", best.ours, note: "bsdtar missing or failed"))
        } else {
            rows.append(
                row(
                    "extract \(label), \(size), ours", best.ours,
                    note: String(format: "%.1f%% of bsdtar (target ≥ 90%%)", 100 * best.bsdtar / best.ours)))
            rows.append(row("  bsdtar -xf ARCHIVE -C DIR, same file", best.bsdtar))
        }
        try FileManager.default.removeItem(atPath: archive)
    }
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Section(
        title: String(
            format:
                "Extraction — %d photo-like JPEGs (%.0f MB) in %d folders into %@; best of 3, alternating with bsdtar; peak RSS so far %.0f MB",
            fileCount, totalBytes / 1e6, classes, FileManager.default.temporaryDirectory.path,
            Double(usage.ru_maxrss) / 1024),
        rows: rows)
}

/// A benchmark that could not measure what it should.
private struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

/// Removes a benchmark folder (a missing one is not an error), then flushes the file system so
/// that writing back one run's files does not slow down the next run.
private func removeFolder(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
    sync()
}
