import ArgumentParser
import Shards

/// `--shuffle`: `global` (one permutation of the whole set every epoch) or `shards:K` (the shards
/// in a new order every epoch, the samples shuffled within each window of K shards: the order for
/// sets streamed through a cache smaller than the set).
struct ShuffleArgument: ExpressibleByArgument, Hashable {
    /// The shard window; nil for the global shuffle.
    var shardWindow: Int?

    static let global = ShuffleArgument(shardWindow: nil)

    init(shardWindow: Int?) { self.shardWindow = shardWindow }

    init?(argument: String) {
        if argument == "global" {
            shardWindow = nil
            return
        }
        guard argument.hasPrefix("shards:"), let window = Int(argument.dropFirst("shards:".count)),
            (1...BatchOptions.maximumShardWindow).contains(window)
        else { return nil }
        shardWindow = window
    }

    var defaultValueDescription: String { shardWindow.map { "shards:\($0)" } ?? "global" }
}
