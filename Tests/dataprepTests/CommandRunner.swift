import Foundation

/// Runs the built `dataprep` binary, as a user would.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the process ended by a signal (then `status` is the signal number).
    var signalled = false
    /// Whether it was killed for running past its time limit.
    var timedOut = false
}

/// The `dataprep` binary `swift test` built next to the test bundle.
func dataprepExecutable() -> URL {
    let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
    return testBinary.deletingLastPathComponent().appendingPathComponent("dataprep")
}

/// Runs `dataprep` with `arguments`, adding `environment` to this process's environment, in the
/// folder `directory` (default: this process's); a run longer than `timeLimit` seconds is killed
/// and reported as timed out.
func runDataprep(
    _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil, timeLimit: Double = 600
) throws -> CommandResult {
    let process = Process()
    process.executableURL = dataprepExecutable()
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let timer = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: timer)
    let started = Date()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    timer.cancel()
    let signalled = process.terminationReason == .uncaughtSignal
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self), signalled: signalled,
        timedOut: signalled && process.terminationStatus == SIGKILL && Date().timeIntervalSince(started) >= timeLimit)
}
