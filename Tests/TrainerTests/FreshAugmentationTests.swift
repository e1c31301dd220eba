import Foundation
import Shards
import TestSupport
import Testing

@testable import Trainer

/// Training through a per-sample transform (what fresh augmentation plugs in): resuming, validation
/// that is never transformed, the recorded options, and sets stored at another size.
@Suite struct FreshAugmentationTests {
    /// Rolls the stored image by a number of columns and rows that depends on (sample, epoch), and
    /// crops it to the output size: a stand-in for augmentation, a pure function of its inputs.
    final class Roll: SampleTransform {
        let stored: ImageSpec, output: ImageSpec

        init(stored: ImageSpec, output: ImageSpec) {
            self.stored = stored
            self.output = output
        }

        func render(stored pixels: UnsafeRawBufferPointer, sample: Int, epoch: Int, into out: UnsafeMutableRawBufferPointer) {
            let dx = (sample &* 5 &+ epoch &* 3) % stored.width, dy = (sample &+ epoch &* 7) % stored.height
            for y in 0..<output.height {
                for x in 0..<output.width {
                    out[y * output.width + x] = pixels[((y + dy) % stored.height) * stored.width + (x + dx) % stored.width]
                }
            }
        }

        static func transformation(stored: ImageSpec = FittingTests.spec, output: ImageSpec = FittingTests.spec) -> SampleTransformation {
            SampleTransformation(output: output) { Roll(stored: stored, output: output) }
        }
    }

    /// Writes black images whatever it is given: training through it learns nothing about the data.
    final class Blank: SampleTransform {
        func render(stored: UnsafeRawBufferPointer, sample: Int, epoch: Int, into out: UnsafeMutableRawBufferPointer) {
            out.initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    func withSets(_ body: (ShardSet, ShardSet, String) throws -> Void) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(
            try FittingTests.makeSet(at: dir + "/train", count: 120, seed: 1, split: "train"),
            try FittingTests.makeSet(at: dir + "/validation", count: 45, seed: 2, split: "validation"), dir)
    }

    @Test func aResumedAugmentedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws {
        try withSets { training, validation, dir in
            func options(_ epochs: Int, _ run: String, resume: Bool = false) -> TrainingOptions {
                TrainingOptions(
                    epochs: epochs, batchSize: 20, seed: 9, runDirectory: dir + run, resume: resume,
                    transformation: Roll.transformation())
            }
            let straight = try FittingTests.model()
            let whole = try Fitting.fit(straight, training: training, validation: validation, options: options(4, "/a"))
            _ = try Fitting.fit(try FittingTests.model(), training: training, validation: validation, options: options(2, "/b"))
            let resumedModel = try FittingTests.model(seed: 999)
            let resumed = try Fitting.fit(resumedModel, training: training, validation: validation, options: options(4, "/b", resume: true))
            #expect(resumedModel.weights == straight.weights)
            #expect(resumed.records.map(\.loss) == whole.records.map(\.loss))
            // The transform is used: without it the run ends elsewhere.
            let plain = try FittingTests.model()
            _ = try Fitting.fit(
                plain, training: training, validation: validation,
                options: TrainingOptions(epochs: 4, batchSize: 20, seed: 9, runDirectory: dir + "/c"))
            #expect(plain.weights != straight.weights)
        }
    }

    @Test func validationIsNeverTransformed() throws {
        try withSets { training, validation, dir in
            let model = try FittingTests.model()
            let history = try Fitting.fit(
                model, training: training, validation: validation,
                options: TrainingOptions(
                    epochs: 1, batchSize: 20, seed: 9, runDirectory: dir + "/run",
                    transformation: SampleTransformation(output: FittingTests.spec) { Blank() }))
            // The recorded validation loss is the loss on the stored validation images, as they are.
            let direct = try Fitting.evaluate(model, on: validation, batchSize: 20)
            #expect(history.records[0].validationLoss == direct.loss)
            #expect(history.records[0].validationAccuracy == direct.accuracy)
            let blanked = try Fitting.evaluate(
                model, on: validation, batchSize: 20, transformation: SampleTransformation(output: FittingTests.spec) { Blank() })
            #expect(blanked.loss != direct.loss)
        }
    }

    @Test func resumingWithOtherAugmentationOptionsIsRefusedNamingThem() throws {
        try withSets { training, _, dir in
            let first = try FittingTests.model()
            first.augmentation = ["rotate": "40.0", "flip": "true"]
            _ = try Fitting.fit(
                first, training: training, validation: nil,
                options: TrainingOptions(epochs: 1, batchSize: 20, runDirectory: dir + "/run", transformation: Roll.transformation()))
            let other = try FittingTests.model()
            other.augmentation = ["rotate": "30.0", "flip": "true"]
            let refused = expectError(TrainerError.self, .invalidArgument) {
                try Fitting.fit(
                    other, training: training, validation: nil,
                    options: TrainingOptions(
                        epochs: 2, batchSize: 20, runDirectory: dir + "/run", resume: true, transformation: Roll.transformation()))
            }
            #expect(refused?.message.contains("rotate 40.0 in the checkpoint, 30.0 now") == true)
            #expect(refused?.message.contains("flip") == false)
            // None at all is one difference, not one per recorded option.
            let none = expectError(TrainerError.self, .invalidArgument) {
                try Fitting.fit(
                    try FittingTests.model(), training: training, validation: nil,
                    options: TrainingOptions(epochs: 2, batchSize: 20, runDirectory: dir + "/run", resume: true))
            }
            #expect(
                none?.message.hasSuffix(
                    "was trained with fresh augmentation (flip true, rotate 40.0), and this run has none; resume with it or start a new run"
                )
                    == true, "\(none?.message ?? "")")
            // The same options resume, and the file keeps them.
            let same = try FittingTests.model()
            same.augmentation = first.augmentation
            _ = try Fitting.fit(
                same, training: training, validation: nil,
                options: TrainingOptions(
                    epochs: 2, batchSize: 20, runDirectory: dir + "/run", resume: true, transformation: Roll.transformation()))
            #expect(try Model.load(from: dir + "/run/" + Fitting.checkpointName).augmentation == first.augmentation)
        }
    }

    @Test func aSetStoredLargerFitsOnlyThroughATransformToTheModelsSpec() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let large = FittingTests.spec.resized(width: 16, height: 16)
        let writer = try ShardWriter(directory: dir + "/large", split: "train", spec: large, hasSource: false)
        for i in 0..<40 {
            let pixels = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ i &* 11) }
            try pixels.withUnsafeBytes { try writer.append(image: $0, label: i % 3) }
        }
        try writer.finish(
            classNames: ["horizontal", "vertical", "checker"], provenance: .init(dataset: "bytes", tool: "test", options: [:], seed: 1))
        let set = try ShardSet(directory: dir + "/large")
        let model = try FittingTests.model()
        model.storedSpec = large
        let through = Roll.transformation(stored: large)
        #expect(try Fitting.evaluate(model, on: set, transformation: through).accuracy >= 0)
        expectError(TrainerError.self, .invalidArgument) { try Fitting.evaluate(model, on: set) }
        expectError(TrainerError.self, .invalidArgument, "a transform must give the model's spec") {
            try Fitting.evaluate(model, on: set, transformation: Roll.transformation(stored: large, output: large))
        }
        try model.saveWeights(to: dir + "/w.dpw")
        #expect(try Model.load(from: dir + "/w.dpw").storedSpec == large)
    }
}
