import ArgumentParser

/// `--seed`: the one seed option; the same seed gives the same bytes. Nil when not given (see
/// ``AugmentationOptions``).
struct SeedOption: ParsableArguments {
    @Option(
        name: .customLong("seed"),
        help: "Random seed: the same seed gives the same output on every machine and thread count (default: 0).")
    var given: UInt64?

    /// `--seed`, 0 when not given.
    var seed: UInt64 { given ?? 0 }
}
