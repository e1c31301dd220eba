import Foundation

/// Runs the program at `path` with `arguments`, its standard error discarded; its exit status and
/// standard output. The tests' and benchmarks' one runner of outside tools (`dataprep` itself is
/// run by the command-line tests' `runDataprep`).
/// - Throws: when the program cannot be started (not installed).
public func runProgram(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}
