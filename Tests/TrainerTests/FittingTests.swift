import Foundation
import Shards
import TestSupport
import Testing

@testable import Trainer

/// The training loop, its callbacks and resuming, on tiny generated shard sets.
@Suite struct FittingTests {
    /// The spec of the generated sets: 12×12 gray, bilinear, rescale 1/255.
    static let spec = ImageSpec(width: 12, height: 12, channels: 1)

    /// A shard set of `count` 12×12 gray pattern images (the three classes of `patternBatch`),
    /// recorded as made to `spec`.
    static func makeSet(at directory: String, count: Int, seed: UInt64, split: String, spec: ImageSpec = Self.spec) throws -> ShardSet {
        let batch = patternBatch(count: count, size: 12, seed: seed)
        let writer = try ShardWriter(directory: directory, split: split, spec: spec, hasSource: false)
        for i in 0..<count {
            let pixels = batch.images[i * 144..<(i + 1) * 144].map { UInt8(max(0, min(255, $0 * 196))) }
            try pixels.withUnsafeBytes { try writer.append(image: $0, label: Int(batch.labels[i])) }
        }
        try writer.finish(
            classNames: ["horizontal", "vertical", "checker"],
            provenance: .init(dataset: "patterns", tool: "test", options: [:], seed: seed))
        return try ShardSet(directory: directory)
    }

    func withSets(_ body: (ShardSet, ShardSet, String) throws -> Void) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(
            try Self.makeSet(at: dir + "/train", count: 300, seed: 1, split: "train"),
            try Self.makeSet(at: dir + "/validation", count: 90, seed: 2, split: "validation"), dir)
    }

    static func model(seed: UInt64 = 7) throws -> Model {
        try Model(
            architecture: Architecture(spec: "conv8,pool,flatten,dense16,output"),
            inputSpec: Self.spec, classes: 3, seed: seed, imageLayout: .nchw)
    }

    @Test func fitLearnsAndWritesTheRunFolder() throws {
        try withSets { training, validation, dir in
            let run = dir + "/run"
            var epochsSeen: [Int] = []
            let options = TrainingOptions(
                epochs: 6, batchSize: 20, seed: 3, runDirectory: run,
                checkpoint: CheckpointPolicy(
                    template: "w.{epoch:02d}-{val_accuracy:.2f}.dpw",
                    monitor: .validationAccuracy, saveBestOnly: true))
            let history = try Fitting.fit(try Self.model(), training: training, validation: validation, options: options) {
                if case .epochEnded(let record) = $0 { epochsSeen.append(record.epoch) }
            }
            #expect(epochsSeen == [1, 2, 3, 4, 5, 6])
            #expect(history.records.count == 6)
            #expect(history.records.last!.validationAccuracy! > 0.9)
            let files = try FileManager.default.contentsOfDirectory(atPath: run)
            #expect(files.contains(Fitting.checkpointName) && files.contains(Fitting.historyName) && files.contains(Fitting.curvesName))
            // Only improving epochs are saved, named from the template.
            let saved = files.filter { $0.hasPrefix("w.") }.sorted()
            #expect(!saved.isEmpty && saved.count <= 6)
            #expect(saved.allSatisfy { $0.range(of: #"^w\.\d\d-\d\.\d\d\.dpw$"#, options: .regularExpression) != nil })
            #expect(try History(csvAt: run + "/" + Fitting.historyName).records.map(\.epoch) == [1, 2, 3, 4, 5, 6])
            let svg = try String(contentsOfFile: run + "/" + Fitting.curvesName, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        }
    }

    @Test func aResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws {
        try withSets { training, validation, dir in
            let straight = try Self.model()
            let whole = try Fitting.fit(
                straight, training: training, validation: validation,
                options: TrainingOptions(epochs: 4, batchSize: 25, seed: 9, runDirectory: dir + "/a"))
            // The same run "killed" after epoch 2, then resumed by a fresh process (a fresh model).
            _ = try Fitting.fit(
                try Self.model(), training: training, validation: validation,
                options: TrainingOptions(epochs: 2, batchSize: 25, seed: 9, runDirectory: dir + "/b"))
            let resumedModel = try Self.model(seed: 999)  // initial weights are replaced by the checkpoint
            let resumed = try Fitting.fit(
                resumedModel, training: training, validation: validation,
                options: TrainingOptions(epochs: 4, batchSize: 25, seed: 9, runDirectory: dir + "/b", resume: true))
            #expect(resumedModel.weights == straight.weights)
            #expect(resumed.records.map(\.loss) == whole.records.map(\.loss))
            #expect(resumed.records.map(\.validationAccuracy) == whole.records.map(\.validationAccuracy))
        }
    }

    @Test func earlyStoppingAndThresholdsStopTraining() throws {
        try withSets { training, validation, dir in
            var reasons: [String] = []
            // A patience of 0 on a metric that cannot improve after the first epoch: val_loss with lr 0.
            let frozen = try Model(
                architecture: Architecture(spec: "flatten,dense8,output"), inputSpec: Self.spec,
                classes: 3, optimizer: .sgd(learningRate: 0), seed: 1)
            let history = try Fitting.fit(
                frozen, training: training, validation: validation,
                options: TrainingOptions(
                    epochs: 10, batchSize: 50, runDirectory: dir + "/early",
                    earlyStopping: EarlyStopping(monitor: .validationLoss, patience: 2))
            ) {
                if case .stopped(let reason) = $0 { reasons.append(reason) }
            }
            #expect(history.records.count == 3)  // epoch 1 sets the best, 2 and 3 wait, stop
            #expect(reasons.count == 1 && reasons[0].contains("val_loss"))

            let quick = try Fitting.fit(
                try Self.model(), training: training, validation: validation,
                options: TrainingOptions(
                    epochs: 30, batchSize: 20, runDirectory: dir + "/threshold",
                    stopAt: [.accuracy: 0.8]))
            #expect(quick.records.last!.accuracy >= 0.8)
            #expect(quick.records.count < 30)
            #expect(quick.records.dropLast().allSatisfy { $0.accuracy < 0.8 })
        }
    }

    @Test func aDivergingLossStopsWithAClearError() throws {
        try withSets { training, _, dir in
            let wild = try Model(
                architecture: Architecture(spec: "flatten,dense8,output"), inputSpec: Self.spec,
                classes: 3, optimizer: .sgd(learningRate: 1e30), seed: 1)
            do {
                _ = try Fitting.fit(
                    wild, training: training, validation: nil,
                    options: TrainingOptions(epochs: 3, batchSize: 50, runDirectory: dir + "/nan"))
                Issue.record("expected nonFiniteLoss")
            } catch let error as TrainerError {
                #expect(error.code == .nonFiniteLoss)
                #expect(error.message.contains("epoch 1"))
            }
        }
    }

    @Test func schedulesAndFileNamesFollowKeras() throws {
        #expect(LearningRateSchedule.step(every: 2, factor: 0.5).rate(epoch: 1, initial: 0.1) == 0.1)
        #expect(LearningRateSchedule.step(every: 2, factor: 0.5).rate(epoch: 3, initial: 0.1) == 0.05)
        #expect(abs(LearningRateSchedule.exponential(factor: 0.9).rate(epoch: 3, initial: 1) - 0.81) < 1e-12)
        let record = EpochRecord(
            epoch: 3, loss: 0.5, accuracy: 0.8, validationLoss: 0.4567, validationAccuracy: 0.9,
            learningRate: 0.001, seconds: 1, imagesPerSecond: 1)
        #expect(try FileNameTemplate("weights.{epoch:02d}-{val_loss:.2f}.dpw").fileName(for: record) == "weights.03-0.46.dpw")
        #expect(try FileNameTemplate("e{epoch}_{accuracy:.3f}").fileName(for: record) == "e3_0.800")
        #expect(try FileNameTemplate("ckpt/{loss:+.1e}-{val_accuracy}.dpw").fileName(for: record) == "ckpt/+5.0e-01-0.9.dpw")
    }

    @Test func templatesWithUnknownFieldsOrBadBracesAreRefusedNamingThem() {
        for (template, named) in [
            ("w.{acc}.dpw", "{acc}"), ("w.{epoch:.2f}.dpw", "'.2f' for {epoch}"), ("w.{loss:d}.dpw", "'d' for {loss}"),
            ("w.{epoch.dpw", "'{' without a '}'"), ("w.epoch}.dpw", "'}' without a '{'"), ("ckpt/", "names no file"),
            ("w.{loss:.123f}", "'.123f' for {loss}"), ("", "names no file"),
        ] {
            let error = expectError(TrainerError.self, .invalidArgument) { try FileNameTemplate(template) }
            #expect(error?.message.contains(named) == true && error?.message.contains("'\(template)'") == true, "\(template)")
        }
    }

    @Test func checkpointTemplatesWithFoldersOrAbsolutePathsSave() throws {
        try withSets { training, validation, dir in
            for template in ["ckpt/deeper/w.{epoch:02d}.dpw", dir + "/elsewhere/w.{epoch:02d}-{val_loss:.2f}.dpw"] {
                let run = dir + "/run-\(template.hasPrefix("/") ? "absolute" : "relative")"
                let history = try Fitting.fit(
                    try Self.model(), training: training, validation: validation,
                    options: TrainingOptions(
                        epochs: 2, batchSize: 50, runDirectory: run, checkpoint: CheckpointPolicy(template: template)))
                let folder = template.hasPrefix("/") ? dir + "/elsewhere" : run + "/ckpt/deeper"
                let saved = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                #expect(saved.count == 2 && saved[0].hasPrefix("w.01") && saved[1].hasPrefix("w.02"), "\(saved)")
                #expect(try History(csvAt: run + "/" + Fitting.historyName).records.map(\.loss) == history.records.map(\.loss))
            }
            // A validation metric without a validation set is refused before the run folder is made.
            expectError(TrainerError.self, .invalidArgument) {
                try Fitting.fit(
                    try Self.model(), training: training, validation: nil,
                    options: TrainingOptions(
                        epochs: 1, batchSize: 50, runDirectory: dir + "/unmade",
                        checkpoint: CheckpointPolicy(template: "w.{val_loss:.2f}.dpw")))
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/unmade"))
        }
    }

    @Test func restoreBestEndsWithTheBestEpochsWeightsAndWritesThemAsTheFinalWeights() throws {
        try withSets { training, validation, dir in
            let run = dir + "/run"
            // "Best" loss under mode max: the first epoch's (training lowers the loss), so the run
            // restores epoch 1 after 3 epochs.
            let model = try Self.model()
            var final: (path: String, epoch: Int)?
            _ = try Fitting.fit(
                model, training: training, validation: validation,
                options: TrainingOptions(
                    epochs: 3, batchSize: 50, runDirectory: run,
                    earlyStopping: EarlyStopping(monitor: .loss, patience: 10, restoreBest: true, higherIsBetter: true))
            ) {
                if case .savedFinalWeights(let path, let epoch) = $0 { final = (path, epoch) }
            }
            #expect(final?.path == run + "/" + Fitting.finalWeightsName && final?.epoch == 1)
            let best = try Model.load(from: run + "/" + Fitting.bestName), saved = try Model.load(from: final!.path)
            #expect(model.weights == best.weights && saved.weights == best.weights)
            #expect(try Model.load(from: run + "/" + Fitting.checkpointName).epoch == 3)  // the resume point stays the last epoch
            #expect(try Model.load(from: run + "/" + Fitting.checkpointName).weights != best.weights)

            // Without --restore-best the final weights are the last epoch's, and a fresh run drops the old best weights.
            let last = try Self.model()
            _ = try Fitting.fit(
                last, training: training, validation: validation, options: TrainingOptions(epochs: 2, batchSize: 50, runDirectory: run))
            #expect(try Model.load(from: run + "/" + Fitting.finalWeightsName).weights == last.weights)
            #expect(!FileManager.default.fileExists(atPath: run + "/" + Fitting.bestName))
        }
    }

    @Test func theLossAxisLeavesOutTheFirstEpochsSpike() {
        func records(_ losses: [Double], _ validation: [Double]) -> History {
            History(
                records: zip(losses, validation).enumerated().map { i, pair in
                    EpochRecord(
                        epoch: i + 1, loss: pair.0, accuracy: 0.5, validationLoss: pair.1, validationAccuracy: 0.5,
                        learningRate: 0.001, seconds: 1, imagesPerSecond: 1)
                })
        }
        let spiky = records([40, 1.0, 0.8, 0.6], [20, 0.9, 0.7, 0.65])
        let axis = spiky.lossAxis()
        #expect(abs(axis.upperBound - 1.1) < 1e-12)  // 1.1 × the largest loss after epoch 1
        #expect(abs(axis.lowerBound - (0.6 - 0.025)) < 1e-12)  // the smallest, padded by 5% of 0.6...1.1
        let svg = spiky.svg()
        #expect(svg.contains(">40<") && svg.contains(">20<"))  // the clipped values are marked
        // Two epochs, or a first epoch below the top, keep the full range, padded.
        let short = records([40, 1.0], [20, 0.9]).lossAxis()
        #expect(abs(short.upperBound - 41.955) < 1e-9 && abs(short.lowerBound - (0.9 - 1.955)) < 1e-9)
        let calm = records([1.0, 1.2, 0.8], [1.0, 1.1, 0.9]).lossAxis()
        #expect(abs(calm.upperBound - 1.22) < 1e-12 && abs(calm.lowerBound - 0.78) < 1e-12)
    }

    @Test func modelsForOtherShapesAreRefused() throws {
        try withSets { training, _, dir in
            let other = try Model(
                architecture: Architecture(spec: "flatten,output"), inputSpec: Self.spec.resized(width: 12, height: 10),
                classes: 3)
            expectError(TrainerError.self, .invalidArgument) {
                try Fitting.fit(
                    other, training: training, validation: nil, options: TrainingOptions(epochs: 1, batchSize: 10, runDirectory: dir + "/x")
                )
            }
        }
    }

    @Test func setsMadeToAnotherSpecAreRefused() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var kerasSpec = Self.spec
        kerasSpec.resize = .kerasNearest
        let keras = try Self.makeSet(at: dir + "/keras", count: 30, seed: 1, split: "validation", spec: kerasSpec)
        var rescaledSpec = Self.spec
        rescaledSpec.rescale = 1.0 / 127.5
        let rescaled = try Self.makeSet(at: dir + "/rescaled", count: 30, seed: 1, split: "validation", spec: rescaledSpec)
        let model = try Self.model()  // bilinear, 1/255: the same size as both sets
        for set in [keras, rescaled] {
            let message = expectError(TrainerError.self, .invalidArgument) { try Fitting.evaluate(model, on: set) }?.message ?? ""
            #expect(
                message.contains(set.directory) && message.contains(set.manifest.spec.fullDescription)
                    && message.contains(Self.spec.fullDescription), "\(message)")
            expectError(TrainerError.self, .invalidArgument) { try ConfusionMatrix(model, on: set) }
            expectError(TrainerError.self, .invalidArgument) {
                try Fitting.fit(
                    model, training: set, validation: nil,
                    options: TrainingOptions(epochs: 1, batchSize: 10, runDirectory: dir + "/run"))
            }
        }
        #expect(
            try Fitting.evaluate(Self.model(), on: Self.makeSet(at: dir + "/same", count: 30, seed: 1, split: "validation")).accuracy >= 0)
    }
}
