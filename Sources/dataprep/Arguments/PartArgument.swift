import ArgumentParser
import Foundation
import Preparation
import Support

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
    /// Job's `JOB_COMPLETION_INDEX`, or a SLURM job array's `SLURM_ARRAY_TASK_ID`, counted from
    /// `SLURM_ARRAY_TASK_MIN` in steps of `SLURM_ARRAY_TASK_STEP` (`--array=0-15:4` gives the
    /// tasks 0, 4, 8, 12: parts 0...3), and `SLURM_ARRAY_TASK_COUNT`. A variable that is set must
    /// be a whole number (digits only, no spaces): a misread one would write another part.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PreparationSettings.Part {
        /// The variable's value; nil when unset, an error when set to anything but a whole number.
        func number(_ name: String, minimum: Int = 0) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }), text.utf8.count <= 9, let value = Int(text),
                value >= minimum
            else {
                throw ValidationError(
                    "--part: \(name) is '\(PathComponent.escaped(text))', not a whole number\(minimum > 0 ? " of at least \(minimum)" : "") "
                        + "(digits only): unset it or give --part I/N")
            }
            return value
        }
        let count: Int
        if let given = self.count {
            count = given
        } else {
            guard let taken = try number("SLURM_ARRAY_TASK_COUNT", minimum: 1), (1...Self.maximumParts).contains(taken) else {
                throw ValidationError("--part auto needs SLURM_ARRAY_TASK_COUNT (1...\(Self.maximumParts)); give --part I/N or --part N")
            }
            count = taken
        }
        var index = self.index
        if index == nil, let job = try number("JOB_COMPLETION_INDEX") {
            index = job
        }
        if index == nil, let task = try number("SLURM_ARRAY_TASK_ID") {
            let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0, step = try number("SLURM_ARRAY_TASK_STEP", minimum: 1) ?? 1
            guard task >= first, (task - first) % step == 0 else {
                throw ValidationError(
                    "--part: SLURM_ARRAY_TASK_ID \(task) is not SLURM_ARRAY_TASK_MIN \(first) plus a multiple of "
                        + "SLURM_ARRAY_TASK_STEP \(step): give --part I/N")
            }
            index = (task - first) / step
        }
        guard let index else {
            throw ValidationError("--part \(count) needs JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (SLURM); or give I/N")
        }
        guard (0..<count).contains(index) else { throw ValidationError("--part index \(index) is not in 0..<\(count)") }
        return PreparationSettings.Part(index: index, count: count)
    }
}
