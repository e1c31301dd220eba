import ArgumentParser
import Foundation
import Preparation

/// `--part`: `I/N`, `N` (I from the scheduler), or `auto` (I and N from the scheduler).
struct PartArgument: ExpressibleByArgument {
    /// The most parts accepted.
    static let maximumParts = 100_000

    var index: Int?
    var count: Int?

    init?(argument: String) {
        if argument == "auto" { return }
        let fields = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let count = Int(fields[fields.count - 1]), (1...Self.maximumParts).contains(count) else {
            return nil
        }
        self.count = count
        if fields.count == 2 {
            guard let index = Int(fields[0]), (0..<count).contains(index) else { return nil }
            self.index = index
        }
    }

    /// The part, with what was omitted taken from the scheduler's variables: a Kubernetes Indexed
    /// Job's `JOB_COMPLETION_INDEX`, or a SLURM job array's `SLURM_ARRAY_TASK_ID` (counted from
    /// `SLURM_ARRAY_TASK_MIN`) and `SLURM_ARRAY_TASK_COUNT`.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PreparationSettings.Part {
        func number(_ name: String) -> Int? { environment[name].flatMap { Int($0) } }
        let slurm = number("SLURM_ARRAY_TASK_ID").map { $0 - (number("SLURM_ARRAY_TASK_MIN") ?? 0) }
        guard let count = count ?? number("SLURM_ARRAY_TASK_COUNT"), (1...Self.maximumParts).contains(count) else {
            throw ValidationError("--part auto needs SLURM_ARRAY_TASK_COUNT; give --part I/N or --part N")
        }
        guard let index = index ?? number("JOB_COMPLETION_INDEX") ?? slurm else {
            throw ValidationError("--part \(count) needs JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (SLURM); or give I/N")
        }
        guard (0..<count).contains(index) else { throw ValidationError("--part index \(index) is not in 0..<\(count)") }
        return PreparationSettings.Part(index: index, count: count)
    }
}
