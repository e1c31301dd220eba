import ArgumentParser
import Augment
import Foundation
import Preparation
import Support
import Trainer

// MARK: - The options a run records, and --resume

extension Train {
    // MARK: Effective values (an option's default when it is not given)

    static let defaultModel = "tutorial", defaultEpochs = 15, defaultBatchSize = 100, defaultOptimizer = "adam",
        defaultMode = "auto"

    var model: String { givenModel ?? Self.defaultModel }
    var epochs: Int { givenEpochs ?? Self.defaultEpochs }
    var batchSize: Int { givenBatchSize ?? Self.defaultBatchSize }
    var optimizer: String { givenOptimizer ?? Self.defaultOptimizer }
    var shuffle: ShuffleArgument { givenShuffle ?? .global }
    var monitor: Metric { givenMonitor ?? .validationLoss }
    var mode: String { givenMode ?? Self.defaultMode }
    var minDelta: Double { givenMinDelta ?? 0 }

    /// The options a run records in its checkpoint (``Model/runOptions``), in the order `--resume`
    /// reads them back (`--optimizer` before `--lr`, whose default is the optimizer's). Everything
    /// that shapes the batches, the weights or the callbacks must be given again with the
    /// recorded value or not at all; `--epochs` may be raised, and `--shards` and `--val` may name
    /// the sets where they are now (a folder is recorded as an absolute path). The run folder,
    /// `--overwrite`, the cache options and the `--summary` options are not recorded.
    static var recordedOptions: [RecordedOption<Train>] {
        [
            .value("shards", \.shards, onResume: .anyValue, recordAs: absolute),
            .value("val", \.val, onResume: .anyValue, recordAs: absolute),
            .value("model", \.givenModel, default: defaultModel),
            .value("size", \.size),
            .value("shuffle", \.givenShuffle, default: .global),
            .value("epochs", \.givenEpochs, default: defaultEpochs, onResume: .anyValue),
            .value("batch-size", \.givenBatchSize, default: defaultBatchSize),
            .value("optimizer", \.givenOptimizer, default: defaultOptimizer),
            .value("lr", \.lr, default: { command in (try? Optimizer(named: command.optimizer)).map { "\($0.learningRate)" } }),
            .value("lr-schedule", \.lrSchedule),
            .value("seed", \.seed.given, default: 0),
            .value("rotate", \.augmentation.givenRotation, default: 0),
            .value("width-shift", \.augmentation.widthShift),
            .value("height-shift", \.augmentation.heightShift),
            .value("shear", \.augmentation.givenShear, default: 0),
            .value("zoom", \.augmentation.zoom),
            .flag("keep-aspect", \.augmentation.keepAspect),
            .flag("flip", \.augmentation.horizontalFlip),
            .flag("vertical-flip", \.augmentation.verticalFlip),
            .value("brightness", \.augmentation.brightness),
            .value("channel-shift", \.augmentation.givenChannelShift, default: 0),
            .value("fill", \.augmentation.render.givenFill, default: .nearest),
            .value("cval", \.augmentation.render.givenCval, default: 0),
            .value("interpolation", \.augmentation.render.resize.givenInterpolation, default: .bilinear),
            .flag("keras-compat", \.augmentation.render.resize.kerasCompat),
            .value("checkpoint", \.checkpoint),
            .value("monitor", \.givenMonitor, default: .validationLoss),
            .flag("save-best-only", \.saveBestOnly),
            .value("mode", \.givenMode, default: defaultMode),
            .value("early-stopping", \.earlyStopping),
            .value("min-delta", \.givenMinDelta, default: 0),
            .flag("restore-best", \.restoreBest),
            .list("stop-at", \.stopAt),
        ]
    }

    /// What argument-parser checks before `run`: this command's `validate()` and its option
    /// groups' that a run records.
    func validateOptions() throws {
        try validate()
        try augmentation.validate()
        try augmentation.render.validate()
        try augmentation.render.resize.validate()
    }

    /// A folder as an absolute path (a URL as it is), so a resumed run finds it from anywhere.
    static func absolute(_ location: String) -> String {
        location.contains("://") || location.hasPrefix("/")
            ? location : URL(fileURLWithPath: location).standardizedFileURL.path
    }

    // MARK: Resuming

    /// `--resume`: takes the options the run's checkpoint records for those not given, checks
    /// those given again, and that there are epochs left to train. Nothing is created: a run
    /// folder without a checkpoint is refused as it is.
    /// - Throws: `ValidationError` when the run folder holds no checkpoint, an option is given
    ///   with another value than the run's (naming only those options), or `--epochs` (given or
    ///   recorded) is not above the epochs the run has trained; ``TrainerError`` when the
    ///   checkpoint cannot be read.
    mutating func resumeWithRecordedOptions() throws {
        let path = runDir + "/" + Fitting.checkpointName
        guard FileIO.exists(path) else {
            throw ValidationError(
                "--resume: \(runDir) holds no run to continue (no \(Fitting.checkpointName)); leave out --resume to start one")
        }
        let typedEpochs = givenEpochs
        let record = try Model.checkpointRecord(at: path)
        if let options = record.options {
            let adopted = try Self.recordedOptions.resume(&self, recorded: options, run: runDir)
            // The record is read back from a file: the values it gave get the checks a command
            // line's get (the options given were checked before `run`, and pass again).
            do { try validateOptions() } catch let error as ValidationError {
                throw ValidationError("\(runDir): the checkpoint records options that are refused: \(error.message)")
            }
            if !adopted.isEmpty { Diagnostics.write("resuming with the run's options: \(adopted.joined(separator: " "))\n") }
        }
        guard epochs > record.epoch else {
            let more = "give --epochs \(record.epoch + 1) or more to train on"
            throw ValidationError(
                typedEpochs.map {
                    "--epochs \($0): the run in \(runDir) has trained \(Diagnostics.count(record.epoch, "epoch")) already and --epochs counts them all "
                        + "(as Keras's fit(epochs=\($0), initial_epoch=\(record.epoch)) would train none): \(more)"
                } ?? "the run in \(runDir) has trained all its \(epochs) epochs: \(more)")
        }
        if shards == nil {
            throw ValidationError("--resume: the checkpoint in \(runDir) does not record its training set; give --shards")
        }
    }
}

extension AugmentationOptions {
    /// Writes `--shift` as the two options it sets, so a run records `--width-shift` and
    /// `--height-shift` however they were given.
    mutating func giveShiftsSeparately() {
        guard let shift else { return }
        widthShift = widthShift ?? shift
        heightShift = heightShift ?? shift
        self.shift = nil
    }
}

extension Metric: RecordableArgument {}
extension FillMode: RecordableArgument {}
extension Interpolation: RecordableArgument {}
extension ShuffleArgument: RecordableArgument { var argumentText: String { defaultValueDescription } }
extension ShiftRange: RecordableArgument { var argumentText: String { argument } }
extension ValuePair: RecordableArgument { var argumentText: String { description } }
