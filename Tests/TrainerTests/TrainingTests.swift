import Foundation
import Shards
import Support
import TestSupport
import Testing

@testable import Trainer

/// Training end to end on generated data: learning, determinism, resuming, saving, divergence.
@Suite struct TrainingTests {
    let shape = ImageSpec(width: 16, height: 16, channels: 1)

    /// Trains `model` for `steps` batches of `batch` fresh pattern images (the data of step s
    /// depends only on `seed` and s).
    @discardableResult
    func train(_ model: Model, steps: Range<Int>, batch: Int = 16, classes: Int = 3, seed: UInt64 = 7) throws -> [StepResult] {
        try steps.map { step in
            let data = patternBatch(count: batch, classes: classes, seed: mix(seed, UInt64(step)))
            return try data.images.withUnsafeBufferPointer { images in
                try data.labels.withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
            }
        }
    }

    func evaluate(_ model: Model, count: Int, classes: Int = 3, seed: UInt64) throws -> StepResult {
        let data = patternBatch(count: count, classes: classes, seed: seed)
        return try data.images.withUnsafeBufferPointer { images in
            try data.labels.withUnsafeBufferPointer { try model.evaluate(images: images, labels: .indices($0)) }
        }
    }

    @Test func aSmallConvnetLearnsThreePatternClasses() throws {
        let model = try Model(
            architecture: Architecture(spec: "conv8,pool,conv16,pool,flatten,dense32,output"), inputSpec: shape,
            classes: 3, optimizer: .adam(learningRate: 0.003), seed: 1)
        let before = try evaluate(model, count: 300, seed: 999)
        let history = try train(model, steps: 0..<120, batch: 24)
        let after = try evaluate(model, count: 300, seed: 999)
        #expect(history.allSatisfy { $0.loss.isFinite })
        #expect(history.last!.loss < history.first!.loss)
        #expect(before.accuracy < 0.6)
        #expect(after.accuracy > 0.95, "held-out accuracy \(after.accuracy), loss \(after.loss)")
        #expect(model.iterations == 120)
    }

    @Test func binaryModelsWithRMSpropAndSGDMomentumLearnToo() throws {
        for optimizer in [Optimizer.rmsprop(), .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true)] {
            let model = try Model(
                architecture: Architecture(spec: "conv8,pool,flatten,drop0.2,output"), inputSpec: shape, classes: 2,
                optimizer: optimizer, seed: 2)
            try train(model, steps: 0..<80, batch: 24, classes: 2)
            let after = try evaluate(model, count: 200, classes: 2, seed: 998)
            #expect(after.accuracy > 0.95, "\(optimizer): held-out accuracy \(after.accuracy)")
        }
    }

    @Test func theSameSeedGivesTheSameWeightsAfterTraining() throws {
        let spec = try Architecture(spec: "conv4,pool,drop0.25,flatten,dense8,drop0.5,output")
        let a = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 5)
        let b = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 5)
        let c = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 6)
        #expect(a.weights == b.weights)
        #expect(a.weights != c.weights)
        try train(a, steps: 0..<6)
        try train(b, steps: 0..<6)
        #expect(a.weights == b.weights)
    }

    @Test func aResumedRunEndsWithTheWeightsOfAnUninterruptedOne() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let spec = try Architecture(spec: "conv4,pool,drop0.25,flatten,dense8,drop0.5,output")
        // The schedule: 4 steps at the default rate, then 6 at 0.0005.
        let uninterrupted = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 9)
        try train(uninterrupted, steps: 0..<4)
        uninterrupted.learningRate = 0.0005
        try train(uninterrupted, steps: 4..<10)

        let interrupted = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 9)
        try train(interrupted, steps: 0..<4)
        interrupted.learningRate = 0.0005
        interrupted.epoch = 2
        try interrupted.saveCheckpoint(to: folder + "/checkpoint.dpw")
        #expect(!FileManager.default.fileExists(atPath: FileIO.temporaryPath(for: folder + "/checkpoint.dpw")))

        // A new process has only the file.
        let resumed = try Model.load(from: folder + "/checkpoint.dpw")
        #expect(resumed.iterations == 4)
        #expect(resumed.epoch == 2)
        #expect(resumed.learningRate == 0.0005)
        try train(resumed, steps: 4..<10)
        #expect(resumed.weights == uninterrupted.weights)

        // Or a model built again (any seed: the checkpoint replaces the weights).
        let rebuilt = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 123)
        try rebuilt.loadCheckpoint(from: folder + "/checkpoint.dpw")
        try train(rebuilt, steps: 4..<10)
        #expect(rebuilt.weights == uninterrupted.weights)
    }

    @Test func savedWeightsGiveIdenticalPredictions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = try Model(architecture: Architecture(spec: "conv6,pool,flatten,dense10,output"), inputSpec: shape, classes: 3, seed: 3)
        try train(model, steps: 0..<5)
        try model.saveWeights(to: folder + "/weights.dpw")
        let data = patternBatch(count: 10, seed: 77)
        let expected = try data.images.withUnsafeBufferPointer { try model.predict(images: $0) }

        let loaded = try Model.load(from: folder + "/weights.dpw")
        #expect(loaded.weights == model.weights)
        #expect(try data.images.withUnsafeBufferPointer { try loaded.predict(images: $0) } == expected)
        let other = try Model(architecture: Architecture(spec: "conv6,pool,flatten,dense10,output"), inputSpec: shape, classes: 3, seed: 4)
        try other.loadWeights(from: folder + "/weights.dpw")
        #expect(try data.images.withUnsafeBufferPointer { try other.predict(images: $0) } == expected)
        #expect(
            throws: TrainerError(.incompatibleWeights, "\(folder)/weights.dpw holds weights only, not a checkpoint with optimizer state")
        ) {
            try other.loadCheckpoint(from: folder + "/weights.dpw")
        }
    }

    @Test func predictionsAreProbabilitiesAndNCHWInputGivesTheSame() throws {
        let spec = try Architecture(spec: "conv4,pool,conv4,flatten,output")
        let shape3 = ImageSpec(width: 8, height: 8, channels: 3)
        let nhwc = try Model(architecture: spec, inputSpec: shape3, classes: 4, seed: 8)
        let nchw = try Model(architecture: spec, inputSpec: shape3, classes: 4, seed: 8, imageLayout: .nchw)
        let images = randomValues(5 * shape3.elementCount, seed: 1)
        var transposed = images
        for n in 0..<5 {
            for y in 0..<8 {
                for x in 0..<8 {
                    for c in 0..<3 { transposed[n * 192 + c * 64 + y * 8 + x] = images[n * 192 + (y * 8 + x) * 3 + c] }
                }
            }
        }
        let a = try images.withUnsafeBufferPointer { try nhwc.predict(images: $0) }
        let b = try transposed.withUnsafeBufferPointer { try nchw.predict(images: $0) }
        #expect(a.count == 20)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-6) }
        #expect(nhwc.preferredImageLayout == .nchw)
        #expect(try Model(architecture: Preset.mlp.architecture, inputSpec: shape3, classes: 4).preferredImageLayout == .nhwc)
        for row in 0..<5 {
            #expect(abs(a[row * 4..<row * 4 + 4].reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test func aDivergingRunReturnsANonFiniteLossInsteadOfCrashing() throws {
        let model = try Model(
            architecture: Preset.mlp.architecture, inputSpec: shape, classes: 3, optimizer: .sgd(learningRate: 1e30), seed: 1)
        let results = try train(model, steps: 0..<4)
        #expect(results.contains { !$0.loss.isFinite })
        // A NaN pixel reaches the loss through a linear model (a relu may map NaN to 0).
        var images = patternBatch(count: 4, seed: 1).images
        images[5] = .nan
        let labels: [Int32] = [0, 1, 2, 0]
        let fresh = try Model(architecture: Architecture(spec: "flatten,output"), inputSpec: shape, classes: 3, seed: 1)
        let result = try images.withUnsafeBufferPointer { images in
            try labels.withUnsafeBufferPointer { try fresh.trainStep(images: images, labels: .indices($0)) }
        }
        #expect(result.loss.isNaN)
    }

    @Test func badArgumentsAreErrorsNotCrashes() throws {
        let model = try Model(architecture: Preset.mlp.architecture, inputSpec: shape, classes: 3)
        let images = [Float](repeating: 0, count: 2 * 256)
        let threeLabels: [Int32] = [0, 1, 2], badLabel: [Int32] = [0, 3]
        func step(_ values: [Float], _ labels: [Int32]) throws {
            _ = try values.withUnsafeBufferPointer { images in
                try labels.withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
            }
        }
        #expect(throws: TrainerError(.invalidArgument, "3 labels for 2 images")) { try step(images, threeLabels) }
        #expect(throws: TrainerError(.invalidArgument, "label 3 of sample 1 is not a class index in 0..<3")) { try step(images, badLabel) }
        #expect(throws: TrainerError(.invalidArgument, "511 values are not a whole number of 16x16x1 images")) {
            try step(Array(images.dropLast()), [0, 1])
        }
        model.learningRate = -1
        #expect(throws: TrainerError(.invalidArgument, "the learning rate must be finite and ≥ 0, got -1.0")) { try step(images, [0, 1]) }
    }

    @Test func dropoutKeepsOneMinusRateOfTheValuesScaledUpAndOnlyInTraining() throws {
        // The dropout kernel on its own, over 40,000 ones: kept values become 1 / (1 − rate), the
        // others 0; the share kept is 1 − rate within 4 standard deviations; the gradient goes
        // through the same mask; masks differ between steps; inference passes the input through.
        let layers = try resolve(
            Architecture(spec: "flatten,drop0.3,output"), input: ImageSpec(width: 100, height: 100, channels: 4),
            classes: 3)
        let engine = try Engine(), store = ParameterStore([])
        let layout = try TensorLayout([1, 40_000], .nc)
        let input = try Tensor(layout, engine: engine), inputGradient = try Tensor(layout, engine: engine)
        input.floats.update(repeating: 1, count: 40_000)
        func context(training: Bool) -> KernelContext {
            KernelContext(
                engine: engine, store: store, parameters: [], batch: 1, training: training, input: input,
                inputGradient: inputGradient, needsOutputGradient: true, isLast: false, activationBackwardDeferred: false,
                inheritedActivation: .linear, layerIndex: 1)
        }
        let dropout = try DropoutKernel(layers[1], rate: 0.3, context(training: true))
        let runner = Runner(engine: engine)
        runner.seed = 7
        var masks: [[Float]] = []
        for step in 0..<2 {
            runner.step = UInt64(step)
            dropout.forward(runner)
            let output = Array(UnsafeBufferPointer(start: dropout.output.floats, count: 40_000))
            #expect(Set(output) == [0, 1 / Float(0.7)])
            let kept = Double(output.filter { $0 != 0 }.count) / 40_000
            #expect(abs(kept - 0.7) < 4 * (0.7 * 0.3 / 40_000).squareRoot(), "kept \(kept)")
            dropout.outputGradient!.floats.update(repeating: 2, count: 40_000)
            dropout.backward(runner)
            #expect(Array(UnsafeBufferPointer(start: inputGradient.floats, count: 40_000)) == output.map { $0 * 2 })
            masks.append(output)
        }
        #expect(masks[0] != masks[1])
        let inference = try DropoutKernel(layers[1], rate: 0.3, context(training: false))
        #expect(inference.output === input)
    }
}
