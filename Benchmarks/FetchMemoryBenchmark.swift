import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Peak memory (maximum resident set size) of `dataprep fetch` downloading (file://, through libcurl)
/// and extracting a 1 GiB archive. Target: < 100 MB.
///
/// The peak is the child's `VmHWM` in /proc, read every 10 ms until it exits: `wait4`'s `ru_maxrss`
/// would not do, because Linux carries the parent's high-water mark into a spawned child's.
func fetchMemoryBenchmark() throws -> Section {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-fetch-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    progress("building a 1 GiB tar")
    let archive = dir + "/big.tar"
    let entries = (0..<256).map { ArchiveBuilder.Entry.zeros("big/class\($0 % 4)/file\($0).bin", count: 4 << 20) }
    try ArchiveBuilder.write(entries, format: .tar, to: archive)

    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dataprep").path
    guard FileManager.default.isExecutableFile(atPath: executable) else {
        return Section(title: "Fetch memory", rows: [Row(stage: "dataprep not built next to the benchmark", rate: 0)])
    }
    progress("dataprep fetch file://…/big.tar")
    var pid: pid_t = 0
    let arguments = [executable, "fetch", "file://" + archive, "--name", "big"]
    let environment = ["DATAPREP_HOME=" + dir + "/home", "PATH=/usr/bin:/bin"]
    var argv = arguments.map { strdup($0) } + [nil]
    var envp = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    defer { posix_spawn_file_actions_destroy(&actions) }
    let start = Date()
    guard posix_spawn(&pid, executable, &actions, nil, &argv, &envp) == 0 else {
        return Section(title: "Fetch memory", rows: [Row(stage: "could not start dataprep", rate: 0)])
    }
    var status: Int32 = 0
    var peakKiB = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        {
            peakKiB = max(peakKiB, kib)
        }
        usleep(10_000)
    }
    let elapsed = Date().timeIntervalSince(start)
    let peakMB = Double(peakKiB) * 1024 / 1e6
    let ok = status == 0
    return Section(
        title: "Fetch — 1 GiB tar (256 × 4 MiB files) via file:// download + extraction",
        rows: [
            Row(
                stage: "dataprep fetch: download, sha256, extract", rate: Double(1 << 30) / 1e6 / elapsed, unit: "MB/s",
                throughput: String(format: "%.0f MB peak RSS", peakMB),
                note: ok ? "target < 100 MB peak" : "FAILED (exit status \(status))")
        ])
}
