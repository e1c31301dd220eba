public import ArgumentParser
import Augment
import Codecs
import Foundation
import Shards
import Support
public import Trainer

/// `dataprep train --shards OUT`: Keras's `model.fit` on shards, with callbacks and a resumable run.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the bundled CNN on a shard set.",
        discussion: """
            Prints one line per epoch (loss, accuracy, val_loss, val_accuracy, seconds, images/s) and \
            a progress bar within the epoch on a terminal, then where each file of the run is. The \
            run folder (--run-dir) receives history.csv, learning-curves.svg, checkpoint.dpc (the \
            last epoch's state, rewritten after every epoch: --resume continues from it), \
            final-weights.dpw (the weights the run ends with: the best epoch's with --restore-best; \
            evaluate, predict and visualize --model RUN use them), best-weights.dpw (with \
            --restore-best) and the weights files --checkpoint writes. Validation data \
            defaults to SHARDS/validation when it exists and must hold images of the training set's \
            image spec; the spec is recorded in every weights file and checkpoint, so evaluate, \
            predict and visualize prepare their input the same way. --summary prints the model's \
            table and exits (with --size, --channels and --classes it needs no shards).

            Fresh augmentation: the augmentation options (those of augment, with the same names and \
            meanings, and --keras-compat) are applied to every training sample inside the reader's \
            workers, with new random parameters for every sample in every epoch, drawn from the \
            counter-based generator keyed by (--seed, epoch, sample, slot): the batches are the same \
            whatever the thread count or prefetch depth, and --resume continues exactly as an \
            uninterrupted run. Each \
            sample is rendered with one resample from the stored pixels; --size resamples stored \
            images of another size to the model's input (validation data too, never augmented). \
            A pre-augmented set (augment --copies N) is read one copy per epoch: train warns when \
            the epochs exceed the copies, and refuses fresh augmentation on a set of several copies.

            Resuming: the checkpoint records the run's options (the model, optimizer, --lr, \
            --batch-size, --seed, the augmentation, the callbacks, --epochs and where the sets are). \
            --resume reuses them: an option given again with the same value is fine, another value \
            is refused, naming the option. --epochs may be raised to train on, and --shards and \
            --val may name the sets where they are now.
            """
    )

    // MARK: Data and model

    @Option(help: "The training shard set (a folder with manifest.json, or its https:// or s3:// URL; with --resume: the run's).")
    var shards: String?

    @Option(help: "The validation shard set (default: SHARDS/validation when present).")
    var val: String?

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    @Option(
        name: .customLong("shuffle"),
        help: """
            The order of each epoch: global (one permutation of the whole set), or shards:K (the shards \
            in a new order every epoch, the samples shuffled within each window of K shards: each shard \
            is read once per epoch, for sets streamed through a cache smaller than the set; default: global).
            """)
    var givenShuffle: ShuffleArgument?

    @Option(
        name: .customLong("model"),
        help: """
            A preset (tutorial, tutorial-dropout, chollet, shallowvgg, fashion, mlp) or a layer spec such as \
            conv32,pool,flatten,dense128,dense10 (default: tutorial).
            """)
    var givenModel: String?

    @Option(
        help: """
            The model's input size WIDTHxHEIGHT, e.g. 150x150: with --shards, stored images of another \
            size are resampled to it (default: the stored size); without, for --summary.
            """)
    var size: PixelSize?

    @Option(help: "Input channels (1 or 3) for --summary without shards.")
    var channels: Int = 3

    @Option(help: "Class count for --summary without shards.")
    var classes: Int?

    @Flag(help: "Print the model summary and exit.")
    var summary = false

    // MARK: Augmentation

    @OptionGroup(title: "Augmentation (fresh for every sample in every epoch)")
    var augmentation: AugmentationOptions

    // MARK: Training

    @Option(
        name: .customLong("epochs"),
        help: "Epochs to train in all, counting resumed ones, as Keras's fit(epochs=..., initial_epoch=...) (default: 15).")
    var givenEpochs: Int?

    @Option(name: .customLong("batch-size"), help: "Samples per batch (1-\(Self.maximumBatchSize); default: 100).")
    var givenBatchSize: Int?

    @Option(name: .customLong("optimizer"), help: "adam, rmsprop or sgd, with Keras's default hyper-parameters (default: adam).")
    var givenOptimizer: String?

    @Option(help: "Learning rate (default: the optimizer's Keras default).")
    var lr: Float?

    @OptionGroup var seed: SeedOption

    @Option(name: .customLong("run-dir"), help: "Folder for history, curves and checkpoints.")
    var runDir = "run"

    @Flag(
        help: """
            Continue the run in --run-dir from its last checkpoint, with the options it records (an option given \
            again must have the same value; --epochs may be raised).
            """)
    var resume = false

    @Flag(help: "Replace the run already in --run-dir (without it, a folder holding a run is refused unless --resume).")
    var overwrite = false

    // MARK: Callbacks

    @Option(
        help: """
            Save weights after epochs, named by this template, e.g. 'ckpt/weights.{epoch:02d}-{val_loss:.2f}.dpw': \
            relative to --run-dir (folders are created) or absolute, without '..' and never naming a file \
            the run writes (history.csv, checkpoint.dpc, ...); fields {epoch:FMT}, {loss:FMT}, \
            {accuracy:FMT}, {val_loss:FMT}, {val_accuracy:FMT} with a printf format (02d, .2f, .3e, g).
            """)
    var checkpoint: String?

    @Option(
        name: .customLong("monitor"),
        help: "The metric --checkpoint and --early-stopping watch: val_loss (the default), loss, accuracy or val_accuracy.")
    var givenMonitor: Metric?

    @Flag(
        name: .customLong("save-best-only"),
        help: "Only save weights that improve on the best monitored value (val_* needs validation data).")
    var saveBestOnly = false

    @Option(name: .customLong("mode"), help: "Whether the monitored metric should fall or rise: auto, min or max (default: auto).")
    var givenMode: String?

    @Option(
        name: .customLong("early-stopping"),
        help:
            "Stop after this many epochs without improvement (patience); the monitored metric must be measured (val_* needs validation data)."
    )
    var earlyStopping: Int?

    @Option(name: .customLong("min-delta"), help: "Smallest change that counts as an improvement (0-1000000; default: 0).")
    var givenMinDelta: Double?

    @Flag(
        name: .customLong("restore-best"),
        help: """
            With --early-stopping, end with the best epoch's weights: RUN/final-weights.dpw and the final \
            line hold them (checkpoint.dpc stays the last epoch's, for --resume).
            """)
    var restoreBest = false

    @Option(
        name: .customLong("stop-at"),
        help: "Stop when a metric reaches a value, e.g. accuracy=0.99 (repeatable; accuracies 0-1, losses 0 or more).")
    var stopAt: [String] = []

    @Option(name: .customLong("lr-schedule"), help: "step:EVERY:FACTOR (e.g. step:5:0.5) or exp:FACTOR (e.g. exp:0.9); FACTOR 0.000001-10.")
    var lrSchedule: String?

    /// The largest batch accepted.
    static let maximumBatchSize = BatchOptions.maximumBatchSize
    /// The most epochs accepted.
    static let maximumEpochs = 1_000_000
    /// The largest `--min-delta` accepted (a loss or accuracy change larger than this is no change).
    static let maximumMinDelta = 1e6
    /// The range of a learning-rate schedule's factor: a decay (or a growth of at most 10× an epoch).
    static let scheduleFactors = 1e-6...10.0

    func validate() throws {
        if let givenEpochs, !(1...Self.maximumEpochs).contains(givenEpochs) {
            throw ValidationError("--epochs must be 1...\(Self.maximumEpochs), got \(givenEpochs)")
        }
        if let givenBatchSize, !(1...Self.maximumBatchSize).contains(givenBatchSize) {
            throw ValidationError("--batch-size must be 1...\(Self.maximumBatchSize), got \(givenBatchSize)")
        }
        if let lr, !(lr.isFinite && lr >= 0) { throw ValidationError("--lr must be finite and ≥ 0, got \(lr)") }
        try size?.check("--size")
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
        if let classes, !(2...100_000).contains(classes) { throw ValidationError("--classes must be 2...100000, got \(classes)") }
        if let givenMode, !["auto", "min", "max"].contains(givenMode) { throw ValidationError("--mode must be auto, min or max") }
        if !summary && !resume && shards == nil {
            throw ValidationError("--shards is required (or --resume, or --summary with --size and --classes)")
        }
        if let earlyStopping, !(0...Self.maximumEpochs).contains(earlyStopping) {
            throw ValidationError("--early-stopping must be 0...\(Self.maximumEpochs) epochs, got \(earlyStopping)")
        }
        if let givenMinDelta, !(givenMinDelta.isFinite && (0...Self.maximumMinDelta).contains(givenMinDelta)) {
            throw ValidationError("--min-delta must be a number in 0...\(Self.maximumMinDelta), got \(givenMinDelta)")
        }
        if let checkpoint {
            do { _ = try FileNameTemplate(checkpoint) } catch { throw ValidationError("--checkpoint: \(error.message)") }
        }
        _ = try schedule()
        _ = try thresholds()
    }

    mutating func run() throws {
        augmentation.giveShiftsSeparately()
        if resume && !summary { try resumeWithRecordedOptions() }
        if restoreBest && earlyStopping == nil { throw ValidationError("--restore-best needs --early-stopping PATIENCE") }
        let training = try shards.map { try remote.open($0) }
        let network = try makeModel(training: training)
        if summary {
            print(network.summary(name: model), terminator: "")
            return
        }
        guard let training else { return }
        let runLock = try FolderLock(runDir)
        defer { runLock.release() }
        let existing = [Fitting.checkpointName, Fitting.historyName].filter { FileIO.exists(runDir + "/" + $0) }
        if !existing.isEmpty && !resume && !overwrite {
            throw ValidationError(
                "\(runDir) already holds a run (\(existing.joined(separator: ", "))): "
                    + "give --resume to continue it, --overwrite to replace it, or another --run-dir")
        }
        let besideTraining = RemoteSetOptions.validation(of: training.directory)
        let validationPath = try val ?? (remote.exists(besideTraining) ? besideTraining : nil)
        let validation = try validationPath.map { try remote.open($0) }
        var recorded = self
        recorded.val = validationPath
        network.runOptions = Self.recordedOptions.record(of: recorded)
        warnAboutOrder(training)
        try checkCopies(of: training)
        let options = try trainingOptions(for: network, training: training, validation: validation)
        let spec = network.inputSpec

        Diagnostics.write(
            "training \(model) (\(network.parameterCount) parameters) on \(Self.samplesPerEpoch(training))"
                + (validation.map { ", validating on \($0.manifest.imagesPerCopy) images" } ?? "")
                + (try isAugmenting ? ", augmented afresh every epoch" : "")
                + (network.storedSpec.map { ", resampled from \($0.sizeDescription) to \(spec.sizeDescription)" } ?? "") + "\n")
        let bar = ProgressLine()
        defer { bar.finish() }
        var finalEpoch: Int?
        let history = try Fitting.fit(network, training: training, validation: validation, options: options) { event in
            switch event {
            case .batch(let epoch, let batch, let count, let loss, let accuracy):
                if batch == 1 { bar.restart() }
                bar.update(
                    ProgressLine.barText("Epoch \(epoch)/\(epochs)", done: batch, total: count, unit: "batches", seconds: bar.elapsed)
                        + String(format: "  loss %.4f  accuracy %.4f", loss, accuracy))
            case .epochEnded(let record):
                bar.finish()
                print(Self.line(record, epochs: epochs))
                fflush(nil)
            case .savedWeights(let path):
                Diagnostics.write("saved \(path)\n")
            case .resumed(let epoch):
                Diagnostics.write("resuming after epoch \(epoch)\n")
            case .stopped(let reason):
                Diagnostics.write("stopping: \(reason)\n")
            case .savedFinalWeights(_, let epoch):
                finalEpoch = epoch
            }
        }
        Diagnostics.write(runFiles(history, finalEpoch: finalEpoch))
        for set in [training, validation].compactMap({ $0 }) {
            if let summary = RemoteSetOptions.summary(of: set) { Diagnostics.write("\(set.directory): \(summary)\n") }
        }
    }

    /// Warns when a set streamed through a cache smaller than itself is read in a global order:
    /// every batch then touches shards all over the set, so shards are fetched again and again.
    func warnAboutOrder(_ set: ShardSet) {
        guard set.cacheStatistics != nil, shuffle.shardWindow == nil, let limit = remote.cacheLimit?.bytes else { return }
        let bytes = set.manifest.shards.map(\.bytes).reduce(0, +)
        guard limit < bytes else { return }
        Diagnostics.warning(
            "the cache limit (" + String(format: "%.1f MB", Double(limit) / 1e6) + ") is smaller than \(set.directory) ("
                + String(format: "%.1f MB", Double(bytes) / 1e6) + ") and the order is a "
                + "global shuffle: shards will be fetched many times per epoch; --shuffle shards:K reads each shard once per epoch")
    }

    // MARK: Reporting

    /// `135 images per epoch`, with `(675 samples: 135 images × 5 copies)` for a pre-augmented set
    /// (an epoch reads one copy of each image).
    static func samplesPerEpoch(_ set: ShardSet) -> String {
        let manifest = set.manifest
        return "\(manifest.imagesPerCopy) images per epoch"
            + (manifest.copies > 1
                ? " (\(manifest.count) samples: \(manifest.imagesPerCopy) images × \(manifest.copies) copies)" : "")
    }

    /// The lines that end a run: where each of its files is and what it holds, then the metrics of
    /// the epoch whose weights the run ends with (`finalEpoch`).
    func runFiles(_ history: History, finalEpoch: Int?) -> String {
        let last = history.records.last?.epoch ?? 0
        let restored = finalEpoch.map { $0 != last } ?? false
        var text =
            "history: \(runDir)/\(Fitting.historyName), curves: \(runDir)/\(Fitting.curvesName)\n"
            + "checkpoint: \(runDir)/\(Fitting.checkpointName) (epoch \(last), the last: --resume continues from it)\n"
        if restoreBest, let finalEpoch, FileIO.exists(runDir + "/" + Fitting.bestName) {
            text += "best weights: \(runDir)/\(Fitting.bestName) (epoch \(finalEpoch), the best \(monitor.rawValue))\n"
        }
        if let finalEpoch {
            text +=
                "final weights: \(runDir)/\(Fitting.finalWeightsName) (epoch \(finalEpoch)"
                + (restored ? ", the best \(monitor.rawValue), restored by --restore-best" : "")
                + "; evaluate, predict and visualize --model \(runDir) use them)\n"
        }
        if let record = history.records.first(where: { $0.epoch == finalEpoch }) {
            text += "final: " + Self.line(record, epochs: epochs) + "\n"
        }
        return text
    }

    // MARK: Fresh augmentation

    /// How stored samples become the model's input: `--size` and the augmentation options.
    var input: TrainingInput {
        get throws { TrainingInput(random: try augmentation.random, settings: augmentation.render.settings, size: size) }
    }

    /// Whether any augmentation option is given.
    var isAugmenting: Bool {
        get throws { try input.isAugmenting }
    }

    /// The model the run trains: the architecture built for the training set's spec at the
    /// model's size (or `--size`/`--channels`/`--classes` without shards), with the set's class
    /// names, stored spec and augmentation options recorded.
    func makeModel(training: ShardSet?) throws -> Model {
        let stored = training?.manifest.spec
        let spec =
            try stored.map { try input.modelSpec(stored: $0) }
            ?? size.map { ImageSpec(width: $0.width, height: $0.height, channels: channels) }
            ?? { throw ValidationError("give --shards, or --size and --classes") }()
        let classCount =
            try classes ?? training?.manifest.classNames.count ?? { throw ValidationError("give --shards, or --size and --classes") }()
        var chosen = try Optimizer(named: optimizer)
        if let lr { chosen = chosen.with(learningRate: lr) }
        let architecture = try Architecture(presetOrSpec: model)
        let network = try Model(
            architecture: architecture, inputSpec: spec, classes: classCount, optimizer: chosen, seed: seed.seed,
            imageLayout: architecture.preferredImageLayout)
        if let names = training?.manifest.classNames { network.classNames = names }
        if let stored, stored != spec { network.storedSpec = stored }
        if try isAugmenting { network.augmentation = augmentation.recorded }
        return network
    }

    /// What `Fitting.fit` gets: the callbacks, and the readers' transformations (the training
    /// input's for the training set; for validation, only the resample of a set of the training
    /// set's stored spec to the model's).
    func trainingOptions(for network: Model, training: ShardSet, validation: ShardSet?) throws -> TrainingOptions {
        let spec = network.inputSpec
        let higher: Bool? = mode == "auto" ? nil : mode == "max"
        return TrainingOptions(
            epochs: epochs, batchSize: batchSize, seed: seed.seed, runDirectory: runDir,
            checkpoint: checkpoint.map {
                CheckpointPolicy(template: $0, monitor: monitor, saveBestOnly: saveBestOnly, higherIsBetter: higher)
            },
            earlyStopping: earlyStopping.map {
                EarlyStopping(
                    monitor: monitor, patience: $0, minDelta: minDelta, restoreBest: restoreBest,
                    higherIsBetter: higher)
            },
            stopAt: try thresholds(), schedule: try schedule(), resume: resume,
            transformation: try input.transformation(stored: training.manifest.spec, model: spec, seed: seed.seed),
            validationTransformation: validation.flatMap { set in
                let setSpec = set.manifest.spec
                return setSpec != spec && setSpec == network.storedSpec ? TrainingInput.resampling(stored: setSpec, model: spec) : nil
            }, shardWindow: shuffle.shardWindow)
    }

    /// Refuses fresh augmentation on a set of several pre-augmented copies (each epoch reads one
    /// copy per image, so the draws would be keyed by sample numbers that skip copies) and warns
    /// when a pre-augmented set is read for more epochs than it has copies, naming the copy each
    /// later epoch reuses.
    /// - Throws: `ValidationError` for fresh augmentation on several copies.
    func checkCopies(of set: ShardSet) throws {
        let copies = set.manifest.copies
        let preAugmented = copies > 1 || !set.manifest.parameterNames.isEmpty
        guard preAugmented else { return }
        if try isAugmenting {
            do { try input.check(set.manifest, in: set.directory) } catch let error as AugmentError { throw error.usageError() }
            Diagnostics.warning(
                "\(set.directory) was already augmented by augment; the fresh augmentation is applied on top of it "
                    + "(pack the images instead to augment the originals)")
        } else if epochs > copies {
            let reused = (copies + 1...epochs).prefix(4).map { "epoch \($0) reuses copy \(($0 - 1) % copies)" }
            Diagnostics.warning(
                "\(set.directory) holds \(copies) augmented cop\(copies == 1 ? "y" : "ies") of every image and "
                    + "training runs \(epochs) epochs: epoch e reads copy (e - 1) mod \(copies), so "
                    + reused.joined(separator: ", ") + (epochs - copies > 4 ? ", ..." : "")
                    + "; for fresh augmentation every epoch, pack the images and give train the augmentation options")
        }
    }

    /// `Epoch 3/15  loss 0.4123  accuracy 0.8123  val_loss 0.4500  val_accuracy 0.8000  12.3 s  812 images/s`
    static func line(_ record: EpochRecord, epochs: Int) -> String {
        var text = String(format: "Epoch %d/%d  loss %.4f  accuracy %.4f", record.epoch, epochs, record.loss, record.accuracy)
        if let loss = record.validationLoss, let accuracy = record.validationAccuracy {
            text += String(format: "  val_loss %.4f  val_accuracy %.4f", loss, accuracy)
        }
        return text + String(format: "  %.1f s  %.0f images/s", record.seconds, record.imagesPerSecond)
    }

    private func schedule() throws -> LearningRateSchedule {
        guard let lrSchedule else { return .constant }
        let parts = lrSchedule.split(separator: ":").map(String.init)
        func factor(_ text: String) -> Double? {
            Double(text).flatMap { $0.isFinite && Self.scheduleFactors.contains($0) ? $0 : nil }
        }
        switch (parts.first, parts.count) {
        case ("step", 3):
            guard let every = Int(parts[1]), (1...Self.maximumEpochs).contains(every), let factor = factor(parts[2]) else { break }
            return .step(every: every, factor: factor)
        case ("exp", 2):
            guard let factor = factor(parts[1]) else { break }
            return .exponential(factor: factor)
        default: break
        }
        throw ValidationError(
            "--lr-schedule must be step:EVERY:FACTOR (EVERY 1...\(Self.maximumEpochs)) or exp:FACTOR, with FACTOR a number in "
                + "\(Self.scheduleFactors.lowerBound)...\(Self.scheduleFactors.upperBound); got '\(lrSchedule)'")
    }

    private func thresholds() throws -> [Metric: Double] {
        var result: [Metric: Double] = [:]
        for item in stopAt {
            let parts = item.split(separator: "=").map(String.init)
            guard parts.count == 2, let metric = Metric(rawValue: parts[0]), let value = Double(parts[1]) else {
                throw ValidationError(
                    "--stop-at takes METRIC=VALUE with METRIC one of loss, accuracy, val_loss, val_accuracy; got '\(item)'")
            }
            // Accuracies are fractions; losses are finite and not negative.
            let range: ClosedRange<Double> = metric.higherIsBetter ? 0...1 : 0...Double.greatestFiniteMagnitude
            guard value.isFinite, range.contains(value) else {
                throw ValidationError(
                    "--stop-at \(metric.rawValue) must be a number in \(metric.higherIsBetter ? "0...1" : "0 or more (finite)"), got '\(parts[1])'"
                )
            }
            result[metric] = value
        }
        return result
    }
}

extension Metric: ExpressibleByArgument {}
