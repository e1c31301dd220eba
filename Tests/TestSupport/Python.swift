public import Testing

/// `python3` from the PATH, for the tests that read dataprep's files the way a Python user would
/// (`make deps` installs python3-numpy, so under `make test` they always run).
public enum Python {
    /// Whether `python3` can import numpy: the condition of the numpy tests,
    /// `@Test(.enabled(if: Python.hasNumpy, Python.numpyMissing))`, which are then reported as
    /// skipped, never as passed, when it cannot.
    public static let hasNumpy = run(["-c", "import numpy"]).status == 0

    /// Why a numpy test did not run.
    public static let numpyMissing: Comment = "python3 with numpy is not available (make deps installs python3-numpy)"

    /// Runs `python3 arguments...`; its exit status (-1 when it cannot start) and its stdout.
    public static func run(_ arguments: [String]) -> (status: Int32, output: String) {
        (try? runProgram("/usr/bin/env", ["python3"] + arguments)) ?? (-1, "")
    }
}
