// The Trainer's public face: a sequential classifier built from a preset or a layer spec, trained
// one batch at a time on oneDNN, evaluated, asked for predictions, and saved (Checkpoints.swift, in
// the format of WeightsFile.swift).
import Dispatch
public import Shards

// MARK: - Results

/// What one batch gave: its mean loss and how many of its images were classified correctly.
public struct StepResult: Sendable, Hashable {
    /// Mean loss over the batch; NaN or infinite when training has diverged (check `isFinite`).
    public var loss: Float
    /// Images whose predicted class (sigmoid > 0.5, or the largest softmax output) is the label.
    public var correct: Int
    /// Images in the batch.
    public var count: Int

    /// A result of `count` images, `correct` of them right, with mean loss `loss`.
    public init(loss: Float, correct: Int, count: Int) {
        self.loss = loss
        self.correct = correct
        self.count = count
    }

    /// `correct / count`, in [0, 1].
    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
}

/// A parameter tensor copied out of a model, in Keras's layout.
public struct WeightArray: Sendable, Hashable {
    /// Keras's name: `conv2d/kernel`, `dense_1/bias`.
    public let name: String
    /// Keras's shape: (kh, kw, in, out) for convolution kernels, (in, out) for dense kernels,
    /// (units) for biases.
    public let shape: [Int]
    /// The values in row-major order of `shape`.
    public let values: [Float]
}

/// Timing of one primitive or Swift step, from ``Model/profileTrainStep(images:labels:)``.
public struct StepTiming: Sendable, Hashable {
    /// What ran: "conv2d_1 forward", "dense backward weights", "adam update".
    public let label: String
    /// The oneDNN implementation (`jit:avx512_core`, `x64:gemm:jit`), or "swift" for Swift loops.
    public let implementation: String
    /// Wall-clock seconds, the primitive's work waited for.
    public let seconds: Double
}

// MARK: - Model

/// A sequential image classifier: layers from an ``Architecture``, fitted to an input image spec and
/// a class count, trained with a ``Loss`` and an ``Optimizer`` on oneDNN kernels (fp32).
///
/// Each batch size gets its own compiled plan (primitives and tensors allocated once, reused every
/// step; the last few are kept). `seed` fixes the initial weights and every dropout mask, so the
/// same seed, data and thread count (`OMP_NUM_THREADS`) give the same weights after N steps, and a
/// run resumed from a checkpoint ends where an uninterrupted one does.
///
/// Not thread-safe: use a model from one thread at a time.
public final class Model {
    /// The layers the model was built from (with `output` and default activations unresolved).
    public let architecture: Architecture
    /// What one input image is and how it is made from a file (size, channels, resize, rescale):
    /// the spec of the shards it trains on, saved in its weights files and checkpoints. Only the
    /// size and channels shape the layers; a shard set must match the whole spec to be used.
    public let inputSpec: ImageSpec
    /// The class count; labels are 0..<classes.
    public let classes: Int
    /// The training loss.
    public let loss: Loss
    /// The optimizer and its hyper-parameters (its learning rate is the initial one).
    public let optimizer: Optimizer
    /// Drew the initial weights and draws the dropout masks; a checkpoint restores the seed it was
    /// trained with.
    public private(set) var seed: UInt64
    /// How images are laid out in the buffers passed in: NHWC (Keras, ``BatchLoader``'s default) or
    /// NCHW. A model whose first layer is a convolution reads NCHW without a reorder.
    public let imageLayout: BatchOptions.ImageLayout
    /// Units of the last layer: 1 (sigmoid, 2 classes) or `classes` (softmax).
    public let outputUnits: Int
    /// The output activation: sigmoid or softmax.
    public let outputActivation: Activation
    /// The learning rate of the next steps (the optimizer's to begin with); set it to schedule.
    public var learningRate: Float
    /// Optimizer steps taken (Keras's `iterations`); restored by ``loadCheckpoint(from:)``.
    public private(set) var iterations = 0
    /// Epochs completed, as the caller counts them; saved in checkpoints so a run can resume.
    public var epoch = 0
    /// Class names in label order, saved with the weights so predictions can be named (the shard
    /// manifest's `classNames`; "0", "1", ... until set).
    public var classNames: [String]
    /// The spec of the stored images the input is resampled from, when the model was trained on
    /// shards of another size (`train --size`): a file becomes input by being made to this spec,
    /// then resampled to ``inputSpec``'s size as its ``ImageSpec/resize`` says. Nil when the model
    /// takes stored images as they are. Saved with the weights.
    public var storedSpec: ImageSpec?
    /// The fresh augmentation the model is trained with, as given on the command line (option →
    /// value; empty: none). Saved with the weights; a resumed run must use the same.
    public var augmentation: [String: String] = [:]
    /// The options of the run that trains the model, as the command line gives them (option →
    /// value, defaults included; empty: not recorded). Saved with the weights and checkpoints, so
    /// that resuming the run can reuse them (``Model/checkpointRecord(at:)`` reads them back).
    public var runOptions: [String: String] = [:]

    let layers: [ResolvedLayer]
    let store: ParameterStore
    let optimizerState: OptimizerState
    /// The oneDNN engine every plan runs on (FeatureMaps.swift reorders on it too).
    let engine: Engine
    private let runner: Runner
    private var plans: [PlanKey: Plan] = [:]
    /// Plan keys, least recently used first.
    private var planOrder: [PlanKey] = []
    private static let maximumPlans = 4
    /// The most trainable parameters a model may have (400 MB of float32 weights).
    public static let maximumParameters = 100_000_000
    /// The most bytes of activations one compiled batch may need (8 GiB).
    public static let maximumActivationBytes = 8 << 30

    private struct PlanKey: Hashable {
        let batch: Int
        let training: Bool
    }

    /// Builds the model and initialises its weights the Keras way (Glorot-uniform kernels, zero
    /// biases) from `seed`.
    /// - Parameters:
    ///   - architecture: the layers (``Preset/architecture`` or ``Architecture/init(spec:)``).
    ///   - inputSpec: one input image (the shard manifest's ``ShardManifest/spec``); the layers are
    ///     fitted to its height, width and channels.
    ///   - classes: the class count (≥ 2); the output layer is sized from it.
    ///   - loss: nil picks binary cross-entropy for a sigmoid output, sparse categorical otherwise.
    ///   - optimizer: Adam with Keras's defaults unless given.
    ///   - seed: initial weights and dropout masks.
    ///   - imageLayout: how image buffers are laid out.
    /// - Throws: ``TrainerError`` `invalidArchitecture` for layers that do not fit the input,
    ///   `invalidArgument` for fewer than 2 classes or a loss that does not match the output
    ///   activation, `library` if oneDNN cannot start.
    public init(
        architecture: Architecture, inputSpec: ImageSpec, classes: Int, loss: Loss? = nil,
        optimizer: Optimizer = .adam(), seed: UInt64 = 0, imageLayout: BatchOptions.ImageLayout = .nhwc
    ) throws {
        let layers = try resolve(architecture, input: inputSpec, classes: classes)
        let parameters = layers.reduce(0.0) { total, layer in total + layer.parameters.reduce(0.0) { $0 + Double($1.count) } }
        guard parameters <= Double(Self.maximumParameters) else {
            throw TrainerError(
                .invalidArchitecture,
                "the model would have \(Int(min(parameters, 9e18))) parameters, over the limit of \(Self.maximumParameters) "
                    + "(the weights, their gradients and the optimizer's state must fit in memory)")
        }
        guard case let .dense(units, activation) = layers.last!.operation else {
            throw TrainerError(.invalidArchitecture, "the last layer must be dense")
        }
        let loss = loss ?? Loss.natural(for: activation)
        guard (loss == .binaryCrossentropy) == (activation == .sigmoid) else {
            throw TrainerError(
                .invalidArgument,
                "\(loss.rawValue) does not fit a \(activation) output of \(units) units; "
                    + "use binary_crossentropy with sigmoid, (sparse_)categorical_crossentropy with softmax")
        }
        self.architecture = architecture
        self.inputSpec = inputSpec
        self.classes = classes
        self.loss = loss
        self.optimizer = optimizer
        self.seed = seed
        self.imageLayout = imageLayout
        outputUnits = units
        outputActivation = activation
        learningRate = optimizer.learningRate
        self.layers = layers
        store = ParameterStore(layers)
        optimizerState = OptimizerState(optimizer, capacity: store.values.count)
        engine = try Engine()
        runner = Runner(engine: engine)
        store.initialize(seed: seed)
        classNames = (0..<classes).map(String.init)
    }

    /// The image layout this model reads without reordering its input: NCHW when the first layer
    /// is a convolution (oneDNN's first-layer kernels read planar images), NHWC otherwise (a dense
    /// layer reads Keras's flatten order). Give ``BatchOptions`` and ``init(architecture:inputSpec:classes:loss:optimizer:seed:imageLayout:)``
    /// this layout to save a reorder per step (about 5 ms for 100 images of 150×150×3).
    public var preferredImageLayout: BatchOptions.ImageLayout { architecture.preferredImageLayout }

    /// Trainable parameters (Keras's "Total params"; there are no non-trainable ones).
    public var parameterCount: Int { store.count }

    /// Every parameter tensor, in layer order (kernel, then bias), copied out in Keras's layout.
    public var weights: [WeightArray] {
        store.parameters.map { parameter in
            WeightArray(
                name: parameter.spec.name, shape: parameter.spec.shape,
                values: [Float](unsafeUninitializedCapacity: parameter.spec.count) { buffer, initialized in
                    store.copyToKeras(parameter, from: store.values.pointer, into: buffer.baseAddress!)
                    initialized = parameter.spec.count
                })
        }
    }

    // MARK: Training and inference

    /// One optimizer step on a batch: forward, loss, backward, update.
    /// - Parameters:
    ///   - images: batch × H × W × C Float32 values (or C × H × W per image with NCHW), read only
    ///     during the call.
    ///   - labels: class indices or one-hot rows, one per image, as the loss wants.
    /// - Returns: the batch's mean loss (before the update) and correct count. A non-finite loss is
    ///   returned, not thrown; the update has been applied, as Keras does, so stop (and reload a
    ///   checkpoint) if it is not finite.
    /// - Throws: ``TrainerError`` `invalidArgument` for an image count that is not a whole number of
    ///   images, labels that do not match, or a learning rate that is negative or not finite;
    ///   `library` if oneDNN fails.
    public func trainStep(images: UnsafeBufferPointer<Float>, labels: Labels) throws -> StepResult {
        guard learningRate.isFinite, learningRate >= 0 else {
            throw TrainerError(.invalidArgument, "the learning rate must be finite and ≥ 0, got \(learningRate)")
        }
        let result = try trainingPass(images, labels).result
        runner.measure("\(optimizer.name) update") {
            optimizerState.apply(to: store, step: iterations + 1, learningRate: learningRate)
        }
        iterations += 1
        return result
    }

    /// ``trainStep(images:labels:)`` on a ``Batch`` from a ``BatchLoader`` (its labels as
    /// configured: indices or one-hot).
    public func trainStep(_ batch: Batch) throws -> StepResult {
        try trainStep(images: batch.images, labels: Self.labels(of: batch))
    }

    /// The mean loss and correct count on a batch without training (dropout off, weights unchanged).
    /// - Parameters: as in ``trainStep(images:labels:)``; the images form one batch.
    /// - Throws: as ``trainStep(images:labels:)``.
    public func evaluate(images: UnsafeBufferPointer<Float>, labels: Labels) throws -> StepResult {
        let batch = try batchSize(images, labels)
        let plan = try forwardInference(images, batch: batch)
        let result = loss.evaluate(
            logits: plan.logits.floats, units: outputUnits, batch: batch, classes: classes,
            labels: labels, gradient: nil)
        return StepResult(loss: Float(result.loss / Double(batch)), correct: result.correct, count: batch)
    }

    /// ``evaluate(images:labels:)`` on a ``Batch``.
    public func evaluate(_ batch: Batch) throws -> StepResult {
        try evaluate(images: batch.images, labels: Self.labels(of: batch))
    }

    /// The model's outputs for a batch of images (dropout off): per image, `outputUnits` values, the
    /// sigmoid probability of class 1 (2 classes) or the softmax probabilities of every class.
    /// - Parameters:
    ///   - images: as in ``trainStep(images:labels:)``; they form one batch.
    ///   - output: room for images × ``outputUnits`` values.
    /// - Throws: ``TrainerError`` `invalidArgument` for a partial image or a wrong output size.
    public func predict(images: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws {
        let batch = try imageCount(images)
        guard output.count == batch * outputUnits else {
            throw TrainerError(.invalidArgument, "room for \(output.count) outputs, but \(batch) images give \(batch * outputUnits)")
        }
        let plan = try forwardInference(images, batch: batch)
        output.baseAddress!.update(from: plan.logits.floats, count: output.count)
        applyOutputActivation(outputActivation, to: output.baseAddress!, units: outputUnits, batch: batch)
    }

    /// ``predict(images:into:)`` returning a new array of images × ``outputUnits`` values.
    public func predict(images: UnsafeBufferPointer<Float>) throws -> [Float] {
        let batch = try imageCount(images)
        return try [Float](unsafeUninitializedCapacity: batch * outputUnits) { buffer, initialized in
            try predict(images: images, into: buffer)
            initialized = batch * outputUnits
        }
    }

    /// ``trainStep(images:labels:)`` with every primitive and Swift step timed (each waits for the
    /// one before, so the total is a little above an unprofiled step). The step is a real one: the
    /// weights are updated.
    public func profileTrainStep(images: UnsafeBufferPointer<Float>, labels: Labels) throws -> (result: StepResult, timings: [StepTiming]) {
        runner.startProfiling()
        do {
            let result = try trainStep(images: images, labels: labels)
            return (result, runner.stopProfiling())
        } catch {
            _ = runner.stopProfiling()
            throw error
        }
    }

    // MARK: Internals shared with Checkpoints.swift and the tests

    /// Forward and backward on a batch without updating: fills the gradient arena and returns the
    /// mean loss (for gradient checks).
    func computeGradients(images: UnsafeBufferPointer<Float>, labels: Labels) throws -> Double {
        try trainingPass(images, labels).meanLoss
    }

    /// Sets the step count and seed restored from a checkpoint.
    func restore(iterations: Int, seed: UInt64) {
        self.iterations = iterations
        self.seed = seed
    }

    // MARK: Plans and arguments

    /// Forward in training mode (dropout masks of the current step), the loss, and backward: the
    /// gradients into the store's gradient arena.
    private func trainingPass(_ images: UnsafeBufferPointer<Float>, _ labels: Labels) throws -> (result: StepResult, meanLoss: Double) {
        let batch = try batchSize(images, labels)
        let plan = try self.plan(batch: batch, training: true)
        try plan.bind(images)
        runner.seed = seed
        runner.step = UInt64(iterations)
        try plan.forward(runner)
        var result = (loss: 0.0, correct: 0)
        runner.measure("loss") {
            result = loss.evaluate(
                logits: plan.logits.floats, units: outputUnits, batch: batch, classes: classes,
                labels: labels, gradient: plan.logitsGradient?.floats)
        }
        try plan.backward(runner)
        let mean = result.loss / Double(batch)
        return (StepResult(loss: Float(mean), correct: result.correct, count: batch), mean)
    }

    /// Forward in inference mode (dropout off) through the plan for `batch` images, which keeps every
    /// layer's output until its next forward pass (FeatureMaps.swift reads them).
    func forwardInference(_ images: UnsafeBufferPointer<Float>, batch: Int) throws -> Plan {
        let plan = try self.plan(batch: batch, training: false)
        try plan.bind(images)
        try plan.forward(runner)
        return plan
    }

    /// The plan for `batch` images, compiled on first use; the least recently used is dropped when
    /// more than ``maximumPlans`` exist.
    private func plan(batch: Int, training: Bool) throws -> Plan {
        let key = PlanKey(batch: batch, training: training)
        if let plan = plans[key] {
            if planOrder.last != key {
                planOrder.removeAll { $0 == key }
                planOrder.append(key)
            }
            return plan
        }
        // Every layer's output (and its gradient when training), for the whole batch, in float32.
        let perImage = layers.reduce(Double(inputSpec.elementCount)) { $0 + Double($1.output.elementCount) }
        let bytes = perImage * Double(batch) * 4 * (training ? 2 : 1)
        guard bytes <= Double(Self.maximumActivationBytes) else {
            throw TrainerError(
                .invalidArgument,
                "a batch of \(batch) needs about \(Int(bytes / 1_048_576)) MiB of activations, over the limit of "
                    + "\(Self.maximumActivationBytes >> 20) MiB: use a smaller batch size")
        }
        if plans.count >= Self.maximumPlans {
            plans[planOrder.removeFirst()] = nil
        }
        let plan = try Plan(
            layers, store: store, batch: batch, training: training, imageLayout: imageLayout,
            engine: engine)
        plans[key] = plan
        planOrder.append(key)
        return plan
    }

    private func imageCount(_ images: UnsafeBufferPointer<Float>) throws -> Int {
        let size = inputSpec.elementCount
        guard images.count > 0, images.count % size == 0 else {
            throw TrainerError(.invalidArgument, "\(images.count) values are not a whole number of \(inputSpec.shapeDescription) images")
        }
        return images.count / size
    }

    private func batchSize(_ images: UnsafeBufferPointer<Float>, _ labels: Labels) throws -> Int {
        let batch = try imageCount(images)
        try loss.validate(labels, batch: batch, classes: classes)
        return batch
    }

    private static func labels(of batch: Batch) -> Labels {
        if let indices = batch.labels { return .indices(indices) }
        return .oneHot(batch.oneHot ?? UnsafeBufferPointer(start: nil, count: 0))
    }
}
