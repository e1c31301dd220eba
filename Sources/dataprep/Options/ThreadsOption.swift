import ArgumentParser
import Foundation

/// `--threads`: the one thread-count option.
struct ThreadsOption: ParsableArguments {
    /// The most threads accepted.
    static let maximum = 256

    @Option(
        help: ArgumentHelp(
            "Worker threads, 1-\(maximum) (default: all cores). "
                + "The output is the same whatever the number."))
    var threads: Int?

    /// The count to use.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let threads, !(1...Self.maximum).contains(threads) {
            throw ValidationError("--threads must be 1...\(Self.maximum), got \(threads)")
        }
    }
}
