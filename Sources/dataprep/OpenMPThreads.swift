import Foundation

/// oneDNN's OpenMP threads (libgomp) spin while they wait for work unless `OMP_WAIT_POLICY` says
/// otherwise, and spinning threads collapse training (3.5–4.7× slower) when another process takes
/// a core.
enum OpenMPThreads {
    /// libgomp reads the environment when it is loaded, before `main`, so a command that runs
    /// oneDNN (one of `subcommands`) sets the passive policy and runs itself again once, unless
    /// the user chose a policy. If the exec fails, the command goes on with the spinning default.
    static func runPassively(subcommands: Set<String>) {
        let arguments = CommandLine.arguments
        guard arguments.count > 1, subcommands.contains(arguments[1]), getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
