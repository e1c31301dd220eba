// The training loop (Keras's `model.fit`): epochs over a shard set through the prefetching reader,
// validation after each epoch, and the callbacks — checkpoints, early stopping, stopping at a
// threshold, learning-rate schedules — with everything a killed run needs to resume.
import Foundation
public import Shards
import Support

// MARK: - Options

/// When to save weights during training (Keras's `ModelCheckpoint`).
public struct CheckpointPolicy: Sendable, Hashable {
    /// File name template (a ``FileNameTemplate``): a path relative to the run folder (it may
    /// hold folders, created when a file is saved) or absolute, with Keras's fields `{epoch:02d}`,
    /// `{loss:.2f}`, `{accuracy:.4f}`, `{val_loss:.2f}`, `{val_accuracy:.3f}`.
    public var template: String
    public var monitor: Metric
    /// Keep only files that improve on the best `monitor` so far.
    public var saveBestOnly: Bool
    /// Whether larger is better; nil picks from the metric (Keras's `mode="auto"`).
    public var higherIsBetter: Bool?

    public init(
        template: String = "weights.{epoch:02d}-{val_loss:.2f}.dpw", monitor: Metric = .validationLoss,
        saveBestOnly: Bool = false, higherIsBetter: Bool? = nil
    ) {
        self.template = template
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.higherIsBetter = higherIsBetter
    }
}

/// Stop when `monitor` has not improved by more than `minDelta` for `patience` epochs (Keras's
/// `EarlyStopping`).
public struct EarlyStopping: Sendable, Hashable {
    public var monitor: Metric
    public var patience: Int
    public var minDelta: Double
    /// End with the best epoch's weights (Keras's `restore_best_weights`), whether training stops
    /// early or runs all its epochs: the model and the run's final weights file hold them. The best
    /// epoch is the last one that improved `monitor` by more than `minDelta`; its weights are kept
    /// in the run folder's `best-weights.dpw`, so a resumed run can restore them too.
    public var restoreBest: Bool
    public var higherIsBetter: Bool?

    public init(
        monitor: Metric = .validationLoss, patience: Int = 3, minDelta: Double = 0, restoreBest: Bool = false,
        higherIsBetter: Bool? = nil
    ) {
        self.monitor = monitor
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
        self.higherIsBetter = higherIsBetter
    }
}

/// The learning rate of each epoch.
public enum LearningRateSchedule: Sendable, Hashable {
    /// The optimizer's rate throughout.
    case constant
    /// Multiply by `factor` every `every` epochs (Keras's step decay).
    case step(every: Int, factor: Double)
    /// Multiply by `factor` every epoch (exponential decay per epoch).
    case exponential(factor: Double)

    /// The rate for 1-based `epoch`, given the initial rate.
    public func rate(epoch: Int, initial: Double) -> Double {
        switch self {
        case .constant: initial
        case .step(let every, let factor): initial * pow(factor, Double((epoch - 1) / max(every, 1)))
        case .exponential(let factor): initial * pow(factor, Double(epoch - 1))
        }
    }
}

/// How ``Fitting/fit(_:training:validation:options:events:)`` trains.
public struct TrainingOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    /// Shuffles each epoch (the permutation depends on this seed and the epoch only).
    public var seed: UInt64
    /// Where `history.csv`, `learning-curves.svg`, `checkpoint.dpc` (the resumable state of the
    /// last epoch, rewritten atomically after every epoch), `final-weights.dpw` (the weights the
    /// run ends with), `best-weights.dpw` (with ``EarlyStopping/restoreBest``) and the policy's
    /// relative weights files go.
    public var runDirectory: String
    public var checkpoint: CheckpointPolicy?
    public var earlyStopping: EarlyStopping?
    /// Stop once a metric reaches a value (accuracies: ≥, losses: ≤), e.g. `accuracy` 0.99.
    public var stopAt: [Metric: Double]
    public var schedule: LearningRateSchedule
    /// Continue the run in `runDirectory` from its `checkpoint.dpc` and `history.csv`.
    public var resume: Bool
    /// Batches prepared ahead by the reader.
    public var prefetch: Int
    /// The shard-aware order's window (``BatchOptions/shardWindow``); nil: a global shuffle.
    public var shardWindow: Int?
    /// Renders every training sample in the reader's workers (fresh augmentation, a resize to the
    /// model's size), keyed by sample and epoch; nil feeds the stored images as they are. Its
    /// output must be the model's ``Model/inputSpec``.
    public var transformation: SampleTransformation?
    /// Renders every validation sample (only a resize to the model's size: validation data is
    /// never augmented); nil feeds them as stored.
    public var validationTransformation: SampleTransformation?

    public init(
        epochs: Int, batchSize: Int, seed: UInt64 = 0, runDirectory: String, checkpoint: CheckpointPolicy? = nil,
        earlyStopping: EarlyStopping? = nil, stopAt: [Metric: Double] = [:], schedule: LearningRateSchedule = .constant,
        resume: Bool = false, prefetch: Int = 4, transformation: SampleTransformation? = nil,
        validationTransformation: SampleTransformation? = nil, shardWindow: Int? = nil
    ) {
        self.shardWindow = shardWindow
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.runDirectory = runDirectory
        self.checkpoint = checkpoint
        self.earlyStopping = earlyStopping
        self.stopAt = stopAt
        self.schedule = schedule
        self.resume = resume
        self.prefetch = prefetch
        self.transformation = transformation
        self.validationTransformation = validationTransformation
    }
}

/// What the loop is doing, for the caller to show (the library never prints).
public enum TrainingEvent: Sendable {
    /// After each training batch: running means over the epoch so far.
    case batch(epoch: Int, batch: Int, of: Int, loss: Double, accuracy: Double)
    case epochEnded(EpochRecord)
    case savedWeights(path: String)
    /// Resuming after epoch `epoch`.
    case resumed(epoch: Int)
    /// Training ends early, with why.
    case stopped(reason: String)
    /// The run's final weights were written to `path`: those of `epoch` (the best one when
    /// ``EarlyStopping/restoreBest`` restored it, else the last).
    case savedFinalWeights(path: String, epoch: Int)
}

// MARK: - The loop

/// Keras's `fit` and `evaluate` over shard sets.
public enum Fitting {
    /// File names in the run folder: the resumable state of the last epoch, the metrics of every
    /// epoch, their plot, the best epoch's weights (with ``EarlyStopping/restoreBest``) and the
    /// weights the run ends with (what `evaluate --model RUN` uses).
    public static let checkpointName = "checkpoint.dpc", historyName = "history.csv", curvesName = "learning-curves.svg",
        bestName = "best-weights.dpw", finalWeightsName = "final-weights.dpw"

    /// Trains `model` on `training` for the remaining epochs, validating on `validation` after each.
    /// Training samples go through `options.transformation` (drawn afresh for every sample in every
    /// epoch), validation samples only through `options.validationTransformation`.
    /// At the end (the last epoch or an early stop) the model holds the final weights — the best
    /// epoch's with ``EarlyStopping/restoreBest``, else the last epoch's — and they are written to
    /// ``finalWeightsName`` in the run folder (``TrainingEvent/savedFinalWeights(path:epoch:)``
    /// names the epoch); ``checkpointName`` stays the last epoch's state, where `resume` continues.
    /// A run that is not resumed first removes the best and final weights an earlier run left.
    /// - Returns: the full history (including resumed epochs).
    /// - Throws: ``TrainerError`` `nonFiniteLoss` when the loss becomes NaN or infinite (the message
    ///   names the epoch and batch), `invalidArgument` when the checkpoint template does not parse
    ///   (see ``FileNameTemplate``) or names a validation metric without a validation set (both
    ///   before the run folder is made), or a set does not fit the model (its image spec — size,
    ///   channels, resize or rescale — or its class count differs), the training set has no
    ///   samples or samples of one class only, or a resumed checkpoint was trained with other
    ///   augmentation options or stored spec (the message names the differences), `fileSystem` when
    ///   the run folder cannot be written, or the reader's errors.
    public static func fit(
        _ model: Model, training: ShardSet, validation: ShardSet?, options: TrainingOptions,
        events: (TrainingEvent) -> Void = { _ in }
    ) throws -> History {
        try check(training, fits: model, through: options.transformation)
        if let validation { try check(validation, fits: model, through: options.validationTransformation) }
        guard training.count > 0 else {
            throw TrainerError(.invalidArgument, "the training set in \(training.directory) holds no samples: nothing to learn from")
        }
        if let validation, validation.count == 0 {
            throw TrainerError(
                .invalidArgument,
                "the validation set in \(validation.directory) holds no samples: nothing to validate on "
                    + "(an empty set has no loss or accuracy); give another validation set or none")
        }
        // A remote set is not read through before training (that would fetch all of it once more);
        // its labels are checked as the reader reads them.
        let present = training.store is LocalShardStore ? Set(try training.labels(stride: training.manifest.copies)) : [0, 1]
        guard present.count >= 2 else {
            let names = present.sorted().map { training.manifest.classNames[$0] }
            throw TrainerError(
                .invalidArgument,
                "the training set in \(training.directory) holds samples of one class only (\(names.joined())): "
                    + "a classifier needs samples of at least 2 classes")
        }
        if let policy = options.checkpoint {
            let template = try FileNameTemplate(policy.template)
            if validation == nil, let metric = template.metrics.first(where: { $0 == .validationLoss || $0 == .validationAccuracy }) {
                throw TrainerError(
                    .invalidArgument,
                    "the checkpoint template '\(policy.template)' names {\(metric.rawValue)}, and there is no validation set to measure it")
            }
            let sample = EpochRecord(
                epoch: 1, loss: 0.5, accuracy: 0.5, validationLoss: 0.5, validationAccuracy: 0.5, learningRate: 0, seconds: 0,
                imagesPerSecond: 0)
            try checkSavedName(template.fileName(for: sample), template: policy.template, run: options.runDirectory)
            if validation == nil, policy.saveBestOnly, policy.monitor == .validationLoss || policy.monitor == .validationAccuracy {
                throw TrainerError(
                    .invalidArgument,
                    "save-best-only watches \(policy.monitor.rawValue), and there is no validation set to measure it: "
                        + "no weights would ever be saved; give a validation set, or monitor loss or accuracy")
            }
        }
        if let early = options.earlyStopping, validation == nil, early.monitor == .validationLoss || early.monitor == .validationAccuracy {
            throw TrainerError(
                .invalidArgument,
                "early stopping\(early.restoreBest ? " (and restoring the best weights)" : "") watches \(early.monitor.rawValue), "
                    + "and there is no validation set to measure it: it would never stop or restore anything; "
                    + "give a validation set, or monitor loss or accuracy")
        }
        let run = options.runDirectory
        do throws(SupportError) { try FileIO.createFolder(run) } catch { throw TrainerError(error) }
        if !options.resume {
            for stale in [bestName, finalWeightsName] { FileIO.removeTree(run + "/" + stale) }
        }
        var history = History()
        let initialRate = Double(model.optimizer.learningRate)
        if options.resume {
            let path = run + "/" + checkpointName
            let contents = try WeightsFile.read(path)
            try requireSameData(contents.index.model, as: model, checkpoint: path)
            try model.loadCheckpoint(contents, from: path)
            history = try History(csvAt: run + "/" + historyName)
            history.records = history.records.filter { $0.epoch <= model.epoch }
            events(.resumed(epoch: model.epoch))
        } else {
            model.epoch = 0
        }
        let loader = try trainingLoader(for: model, training: training, options: options)
        let validating = try validation.map { try validationLoader(for: model, validation: $0, options: options) }

        while model.epoch < options.epochs {
            let epoch = model.epoch + 1
            model.learningRate = Float(options.schedule.rate(epoch: epoch, initial: initialRate))
            let started = Date()
            var totals = StepResult(loss: 0, correct: 0, count: 0)
            var lossSum = 0.0
            let batches = loader.epoch(epoch - 1)
            var number = 0
            while let batch = try batches.next() {
                let step = try model.trainStep(batch)
                guard step.loss.isFinite else {
                    batches.cancel()
                    throw TrainerError(
                        .nonFiniteLoss,
                        "the training loss became \(step.loss) in epoch \(epoch), batch \(number + 1); "
                            + "lower the learning rate (it is \(model.learningRate)) or check the data")
                }
                lossSum += Double(step.loss) * Double(step.count)
                totals.correct += step.correct
                totals.count += step.count
                number += 1
                events(
                    .batch(
                        epoch: epoch, batch: number, of: loader.batchesPerEpoch, loss: lossSum / Double(totals.count),
                        accuracy: totals.accuracy))
            }
            let seconds = Date().timeIntervalSince(started)
            let measured = try validating.map { try evaluate(model, loader: $0) }
            model.epoch = epoch
            let record = EpochRecord(
                epoch: epoch, loss: lossSum / Double(max(totals.count, 1)), accuracy: totals.accuracy,
                validationLoss: measured?.loss, validationAccuracy: measured?.accuracy,
                learningRate: Double(model.learningRate), seconds: seconds,
                imagesPerSecond: Double(totals.count) / max(seconds, 1e-9))
            history.records.append(record)
            events(.epochEnded(record))

            try writeAtomically(history.csv(), to: run + "/" + historyName)
            try writeAtomically(history.svg(), to: run + "/" + curvesName)
            let stop = try applyCallbacks(model, history: history, options: options, events: events)
            // The resumable state last, after the weights files: a run killed before this line redoes the epoch.
            try model.saveCheckpoint(to: run + "/" + checkpointName)
            if let stop {
                events(.stopped(reason: stop))
                break
            }
        }
        var finalEpoch = model.epoch
        if let early = options.earlyStopping, early.restoreBest,
            let best = bestEpoch(
                history, metric: early.monitor, higherIsBetter: early.higherIsBetter ?? early.monitor.higherIsBetter,
                minDelta: early.minDelta),
            best != finalEpoch, FileIO.exists(run + "/" + bestName)
        {
            try model.loadWeights(from: run + "/" + bestName)
            finalEpoch = best
        }
        try model.saveWeights(to: run + "/" + finalWeightsName)
        events(.savedFinalWeights(path: run + "/" + finalWeightsName, epoch: finalEpoch))
        return history
    }

    /// Loss and accuracy of `model` on every sample of `set`, in order.
    /// - Parameters:
    ///   - transformation: resamples each sample to the model's input (for a set of the model's
    ///     ``Model/storedSpec``); nil feeds the samples as stored.
    /// - Throws: ``TrainerError`` `invalidArgument` when the set does not fit the model (its image
    ///   spec — size, channels, resize or rescale — or its class count differs), or the reader's
    ///   errors.
    public static func evaluate(
        _ model: Model, on set: ShardSet, batchSize: Int = 100, transformation: SampleTransformation? = nil
    ) throws -> (loss: Double, accuracy: Double) {
        try check(set, fits: model, through: transformation)
        let loader = try BatchLoader(
            set: set, options: batchOptions(for: model, batchSize: batchSize, seed: 0, shuffle: false, prefetch: 4),
            transformation: transformation)
        return try evaluate(model, loader: loader)
    }

    static func evaluate(_ model: Model, loader: BatchLoader) throws -> (loss: Double, accuracy: Double) {
        guard loader.samplesPerEpoch > 0 else {
            throw TrainerError(
                .invalidArgument,
                "the shards in \(loader.set.directory) hold no samples: an empty set has no loss or accuracy")
        }
        let batches = loader.epoch(0)
        var lossSum = 0.0, correct = 0, count = 0
        while let batch = try batches.next() {
            let step = try model.evaluate(batch)
            lossSum += Double(step.loss) * Double(step.count)
            correct += step.correct
            count += step.count
        }
        return (lossSum / Double(count), Double(correct) / Double(count))
    }

    /// The reader ``fit(_:training:validation:options:events:)`` trains `model` from: epoch `e`
    /// (0-based) of it is what the model is fed in the run's epoch `e + 1`, shuffled with the
    /// run's seed, through `options.transformation`.
    /// - Throws: ``ShardError`` from ``BatchLoader/init(set:options:transformation:ring:)``.
    public static func trainingLoader(for model: Model, training: ShardSet, options: TrainingOptions) throws -> BatchLoader {
        var batchOptions = batchOptions(
            for: model, batchSize: options.batchSize, seed: options.seed, shuffle: true, prefetch: options.prefetch)
        batchOptions.shardWindow = options.shardWindow
        return try BatchLoader(set: training, options: batchOptions, transformation: options.transformation)
    }

    /// The reader that validates `model` after each epoch: in order, not shuffled, through
    /// `options.validationTransformation`.
    /// - Throws: ``ShardError`` from ``BatchLoader/init(set:options:transformation:ring:)``.
    public static func validationLoader(for model: Model, validation: ShardSet, options: TrainingOptions) throws -> BatchLoader {
        try BatchLoader(
            set: validation,
            options: batchOptions(for: model, batchSize: options.batchSize, seed: 0, shuffle: false, prefetch: options.prefetch),
            transformation: options.validationTransformation)
    }

    /// Reader options that match what `model` consumes (layout, label form). One reader thread:
    /// converting 10k+ images/s leaves both cores to oneDNN, which trains at hundreds.
    public static func batchOptions(for model: Model, batchSize: Int, seed: UInt64, shuffle: Bool, prefetch: Int) -> BatchOptions {
        BatchOptions(
            batchSize: batchSize, layout: model.imageLayout,
            labels: model.loss == .categoricalCrossentropy ? .oneHot : .indices, shuffle: shuffle, seed: seed,
            prefetch: prefetch, threads: 1)
    }

    /// Checks that `set` is what `model` was built for: the same image spec (width, height,
    /// channels, resize and rescale: a model trained on `--keras-compat` shards must not be fed
    /// bilinear ones) and the same class count. Through a per-sample transformation, the
    /// transformation must give the model's spec, and the set may instead hold the model's
    /// ``Model/storedSpec`` (images of another size, resampled on the way).
    /// - Throws: ``TrainerError`` `invalidArgument` naming both specs (or class counts) and the
    ///   set's folder.
    static func check(_ set: ShardSet, fits model: Model, through transformation: SampleTransformation? = nil) throws {
        let spec = set.manifest.spec, classes = set.manifest.classNames.count
        if let transformation, transformation.output != model.inputSpec {
            throw TrainerError(
                .invalidArgument,
                "the sample transform gives images of the spec \(transformation.output.fullDescription); "
                    + "the model takes \(model.inputSpec.fullDescription)")
        }
        guard spec == model.inputSpec || (transformation != nil && model.storedSpec == spec) else {
            throw TrainerError(
                .invalidArgument,
                "the shards in \(set.directory) hold images of the spec \(spec.fullDescription); "
                    + "the model takes \(model.inputSpec.fullDescription)"
                    + (model.storedSpec.map { ", resampled from stored images of \($0.fullDescription)" } ?? ""))
        }
        guard classes == model.classes else {
            throw TrainerError(
                .invalidArgument,
                "the shards in \(set.directory) hold \(classes) classes; "
                    + "the model takes \(model.classes)")
        }
    }

    /// Checks that a checkpoint about to be resumed was trained on data made the way `model`'s is:
    /// the same augmentation options and stored spec.
    /// - Throws: ``TrainerError`` `invalidArgument` naming each option that differs, with both values.
    static func requireSameData(_ record: WeightsFile.ModelRecord, as model: Model, checkpoint path: String) throws {
        let recorded = record.augmentation ?? [:], wanted = model.augmentation
        func listed(_ options: [String: String]) -> String {
            options.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        if recorded.isEmpty != wanted.isEmpty {
            throw TrainerError(
                .invalidArgument,
                recorded.isEmpty
                    ? "\(path) was trained without fresh augmentation, and this run augments (\(listed(wanted))); resume without it or start a new run"
                    : "\(path) was trained with fresh augmentation (\(listed(recorded))), and this run has none; resume with it or start a new run"
            )
        }
        let differences = Set(recorded.keys).union(wanted.keys).sorted().compactMap { key -> String? in
            let old = recorded[key], new = wanted[key]
            guard old != new else { return nil }
            return "\(key) \(old ?? "(not recorded)") in the checkpoint, \(new ?? "(not given)") now"
        }
        if !differences.isEmpty {
            throw TrainerError(
                .invalidArgument,
                "\(path) was trained with other augmentation options: " + differences.joined(separator: "; ")
                    + "; resume with the checkpoint's options or start a new run")
        }
        if record.storedSpec != model.storedSpec {
            throw TrainerError(
                .invalidArgument,
                "\(path) was trained on stored images of "
                    + (record.storedSpec?.fullDescription ?? "the model's spec")
                    + "; this run reads " + (model.storedSpec?.fullDescription ?? "the model's spec"))
        }
    }

    // MARK: - Callbacks

    /// Saves weights as the policies say; returns why training should stop, if it should.
    static func applyCallbacks(
        _ model: Model, history: History, options: TrainingOptions,
        events: (TrainingEvent) -> Void
    ) throws -> String? {
        let run = options.runDirectory
        guard let last = history.records.last else { return nil }
        if let policy = options.checkpoint {
            let higher = policy.higherIsBetter ?? policy.monitor.higherIsBetter
            if !policy.saveBestOnly || isBest(last, in: history, metric: policy.monitor, higherIsBetter: higher, minDelta: 0) {
                let name = try FileNameTemplate(policy.template).fileName(for: last)
                try checkSavedName(name, template: policy.template, run: run)
                let path = name.hasPrefix("/") ? name : run + "/" + name
                do throws(SupportError) {
                    try FileIO.createFolder((path as NSString).deletingLastPathComponent)
                } catch { throw TrainerError(error) }
                try model.saveWeights(to: path)
                events(.savedWeights(path: path))
            }
        }
        if let early = options.earlyStopping {
            let higher = early.higherIsBetter ?? early.monitor.higherIsBetter
            if early.restoreBest, bestEpoch(history, metric: early.monitor, higherIsBetter: higher, minDelta: early.minDelta) == last.epoch
            {
                try model.saveWeights(to: run + "/" + bestName)
            }
            if let waited = epochsSinceBest(history, metric: early.monitor, higherIsBetter: higher, minDelta: early.minDelta),
                waited >= early.patience
            {
                return
                    "\(early.monitor.rawValue) has not improved by more than \(early.minDelta) for \(waited) epochs (patience \(early.patience))"
            }
        }
        for (metric, threshold) in options.stopAt.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let value = last.value(metric) else { continue }
            if metric.higherIsBetter ? value >= threshold : value <= threshold {
                return String(format: "%@ reached %.4f (threshold %.4f)", metric.rawValue, value, threshold)
            }
        }
        return nil
    }

    /// Refuses a checkpoint file name (what a template gave) that is the run folder itself, or a
    /// file the run writes there, or a folder or temporary file of such a name: an absolute
    /// template can name the run folder too.
    /// - Throws: ``TrainerError`` `invalidArgument` naming the template and the file.
    static func checkSavedName(_ name: String, template: String, run: String) throws {
        let path = name.hasPrefix("/") ? name : run + "/" + name
        guard FileIO.isInside(path, folder: run) else { return }
        let inner = FileIO.resolvedPath(path), outer = FileIO.resolvedPath(run)
        let relative = inner.count > outer.count ? String(inner.dropFirst(outer.hasSuffix("/") ? outer.count : outer.count + 1)) : ""
        let first = relative.split(separator: "/").first.map(String.init) ?? ""
        if relative.isEmpty || FileNameTemplate.reservedName(first) != nil {
            throw TrainerError(
                .invalidArgument,
                "the checkpoint template '\(PathComponent.escaped(template))' names \(PathComponent.escaped(path)), "
                    + "\(relative.isEmpty ? "the run folder itself" : "a file the run itself writes (\(first))"): choose another name")
        }
    }

    /// Whether `record` improves on every earlier epoch by more than `minDelta`.
    static func isBest(_ record: EpochRecord, in history: History, metric: Metric, higherIsBetter: Bool, minDelta: Double) -> Bool {
        guard let value = record.value(metric) else { return false }
        let earlier = history.records.filter { $0.epoch < record.epoch }.compactMap { $0.value(metric) }
        guard let best = higherIsBetter ? earlier.max() : earlier.min() else { return true }
        return higherIsBetter ? value > best + minDelta : value < best - minDelta
    }

    /// The epoch of the last improvement of `metric` by more than `minDelta` over the best value
    /// so far (Keras's `best_epoch`; the first epoch counts as one), nil when it was never measured.
    static func bestEpoch(_ history: History, metric: Metric, higherIsBetter: Bool, minDelta: Double) -> Int? {
        var best: Double?, epoch: Int?
        for record in history.records {
            guard let value = record.value(metric) else { return nil }
            if let current = best, !(higherIsBetter ? value > current + minDelta : value < current - minDelta) { continue }
            best = value
            epoch = record.epoch
        }
        return epoch
    }

    /// Epochs since the last improvement of `metric` (as Keras's `wait`), nil when never measured.
    static func epochsSinceBest(_ history: History, metric: Metric, higherIsBetter: Bool, minDelta: Double) -> Int? {
        guard let best = bestEpoch(history, metric: metric, higherIsBetter: higherIsBetter, minDelta: minDelta),
            let last = history.records.last
        else { return nil }
        return last.epoch - best
    }
}
