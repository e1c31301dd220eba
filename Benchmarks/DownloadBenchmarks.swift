import Datasets
import Fetch
import Foundation
import TestSupport

/// A 256 MiB download over loopback from ``LoopbackHTTPServer``: ours (to a temporary file, sha256
/// computed while streaming and checked, fsync, rename) against `/usr/bin/curl -s -o /dev/null`
/// on the same URL in the same run, and, for scale, `curl -s -o FILE`, which pays for writing the
/// file as ours does (but hashes nothing). The runs alternate and each keeps its best of 3, to
/// damp VM noise. The server runs in this process for all of them.
func downloadBenchmarks() throws -> Section {
    let size = 256 << 20, runs = 3
    progress("download: generating \(size >> 20) MiB")
    let content = pseudoRandomBytes(count: size)
    var digest = SHA256Digest()
    content.withUnsafeBytes { digest.update($0) }
    let options = DownloadOptions(expectedSize: size, expectedSHA256: digest.hex())

    let server = try LoopbackHTTPServer()
    defer { server.stop() }
    server.setFile(content, at: "/bench.bin")
    let url = server.baseURL + "/bench.bin"
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-download-\(getpid())").path
    let destination = folder + "/bench.bin", curlCopy = folder + "/curl.bin"
    defer { try? FileManager.default.removeItem(atPath: folder) }

    /// Seconds `curl -s -o output URL` takes, nil when curl is missing or fails.
    func curl(to output: String) -> Double? {
        var status: Int32?
        let time = seconds { status = (try? runProgram("/usr/bin/curl", ["-s", "-o", output, url]))?.status }
        return status == 0 ? time : nil
    }

    var ours = Double.infinity
    var curlToNull: Double? = .infinity, curlToFile: Double? = .infinity
    for run in 1...runs {
        progress("download run \(run)/\(runs)")
        ours = min(ours, try seconds { _ = try download(from: url, to: destination, options: options) })
        try? FileManager.default.removeItem(atPath: destination)
        if let best = curlToNull { curlToNull = curl(to: "/dev/null").map { min(best, $0) } }
        if let best = curlToFile { curlToFile = curl(to: curlCopy).map { min(best, $0) } }
        try? FileManager.default.removeItem(atPath: curlCopy)
    }

    func megabytesPerSecond(_ seconds: Double) -> String { String(format: "%.0f MB/s", Double(size) / seconds / 1e6) }
    func percent(of reference: Double?) -> String? { reference.map { String(format: "%.1f%%", 100 * $0 / ours) } }
    let note = [
        percent(of: curlToNull).map { "\($0) of curl -o /dev/null (target ≥ 80%)" },
        percent(of: curlToFile).map { "\($0) of curl -o FILE" },
    ].compactMap { $0 }.joined(separator: "; ")
    var rows = [
        Row(
            stage: "download \(size >> 20) MiB over loopback → file, sha256, fsync", rate: 1 / ours, unit: "files/s",
            throughput: megabytesPerSecond(ours), note: note.isEmpty ? "curl missing" : note)
    ]
    if let curlToNull {
        rows.append(
            Row(
                stage: "  curl -s -o /dev/null, same URL", rate: 1 / curlToNull, unit: "files/s",
                throughput: megabytesPerSecond(curlToNull)))
    }
    if let curlToFile {
        rows.append(
            Row(
                stage: "  curl -s -o FILE, same URL (writes, no hash)", rate: 1 / curlToFile, unit: "files/s",
                throughput: megabytesPerSecond(curlToFile)))
    }
    return Section(
        title: "Download — \(size >> 20) MiB from an in-process loopback HTTP server; best of \(runs), interleaved",
        rows: rows)
}

/// `count` bytes of SplitMix64 output: incompressible, made at memory speed.
private func pseudoRandomBytes(count: Int) -> [UInt8] {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        var offset = 0
        while offset + 8 <= count {
            raw.storeBytes(of: next().littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            raw[offset] = UInt8(truncatingIfNeeded: next())
            offset += 1
        }
        initialized = count
    }
}
