import ArgumentParser

/// `--seed`: the one seed option; the same seed gives the same bytes.
struct SeedOption: ParsableArguments {
    @Option(help: "Random seed: the same seed gives the same output on every machine and thread count.")
    var seed: UInt64 = 0
}
