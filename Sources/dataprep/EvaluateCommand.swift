import ArgumentParser
import Foundation
import Shards
import Trainer

/// `dataprep evaluate --model CKPT --shards SET`: loss, accuracy and confusion matrix.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss, accuracy and confusion matrix of a trained model on a shard set.",
        discussion: """
            The shard set must hold images of the model's recorded image spec (size, channels, \
            resize, rescale), or, for a model trained with --size on shards of another size, of the \
            stored spec it was trained on (resampled as its validation data was): a set made another \
            way is refused.
            """)

    @OptionGroup var model: ModelOption

    @Option(help: "The shard set to evaluate on (a folder with manifest.json, or its https:// or s3:// URL).")
    var shards: String

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    @Option(name: .customLong("batch-size"), help: "Samples per batch (1-\(Train.maximumBatchSize)).")
    var batchSize = 100

    func validate() throws {
        guard (1...Train.maximumBatchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1...\(Train.maximumBatchSize), got \(batchSize)")
        }
    }

    func run() throws {
        let network = try model.load()
        let set = try remote.open(shards)
        guard set.manifest.classNames == network.classNames else {
            throw TrainerError(
                .invalidArgument,
                "the shards in \(shards) name their classes \(set.manifest.classNames.joined(separator: ", ")); the model was trained on "
                    + "\(network.classNames.joined(separator: ", ")): its labels would be compared with other classes")
        }
        try Self.checkSpec(of: set, at: shards, fits: network)
        let resampling = ModelInput(model: network).transformation(for: set)
        let (loss, accuracy) = try Fitting.evaluate(network, on: set, batchSize: batchSize, transformation: resampling)
        let confusion = try ConfusionMatrix(network, on: set, batchSize: batchSize, transformation: resampling)
        print(String(format: "loss %.4f  accuracy %.4f  (%d samples)", loss, accuracy, set.manifest.imagesPerCopy))
        print(confusion.table(classNames: set.manifest.classNames))
    }

    /// Refuses a set whose images are not made as the model's input is (its image spec, or the
    /// stored spec a model trained with `--size` resampled from), naming both specs and the
    /// `pack` command that makes the set the model takes, from the images the set was made from
    /// when its provenance names them.
    /// - Throws: ``TrainerError`` `invalidArgument`.
    static func checkSpec(of set: ShardSet, at location: String, fits model: Model) throws {
        let spec = set.manifest.spec
        guard spec != model.inputSpec && spec != model.storedSpec else { return }
        let wanted = model.storedSpec ?? model.inputSpec
        let provenance = set.manifest.provenance
        let source: String? =
            switch provenance.options["command"] {
            case "pack": provenance.dataset
            case "augment": provenance.dataset + "/" + set.manifest.split
            default: nil
            }
        var pack = ["dataprep", "pack", source ?? "DIR", "--size", wanted.sizeDescription]
        if wanted.channels == 1 { pack += ["--channels", "1"] }
        switch wanted.resize {
        case .bilinear: break
        case .nearest: pack += ["--interpolation", "nearest"]
        case .kerasNearest: pack.append("--keras-compat")
        }
        pack += ["--out", "OUT"]
        throw TrainerError(
            .invalidArgument,
            "the shards in \(location) hold images of the spec \(spec), rescale \(spec.rescale); the model was trained on "
                + "\(wanted), rescale \(wanted.rescale): repack the images\(source == nil ? " (DIR: the folder of class folders)" : "") with `"
                + ShellWords.command(pack) + "` and evaluate OUT")
    }
}
