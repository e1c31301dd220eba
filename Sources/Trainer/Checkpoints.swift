// Saving and restoring a model: weights only (for evaluation and prediction) or a checkpoint
// (weights, optimizer state, step count, epoch and learning rate: everything a resumed run needs to
// end with the same weights as an uninterrupted one). The file format is on `WeightsFile`.
import Shards
import Support

/// What a checkpoint records about the run that wrote it.
public struct CheckpointRecord: Sendable, Equatable {
    /// The last epoch whose state the checkpoint holds (1-based; 0 before the first).
    public var epoch: Int
    /// The run's options (``Model/runOptions``); nil in checkpoints written before they were recorded.
    public var options: [String: String]?
}

extension Model {
    /// Writes the weights to `path` (format on ``WeightsFile``) with the model's description and
    /// ``inputSpec``, atomically: the file is either the old one or the complete new one.
    /// - Throws: ``TrainerError`` `fileSystem`.
    public func saveWeights(to path: String) throws {
        let scratch = kerasScratch()
        try WeightsFile.write(index(kind: .weights), payloads: payloads(of: store.values, named: { $0 }, scratch: scratch), to: path)
    }

    /// Writes a checkpoint to `path`, atomically: the weights, the optimizer's state arrays and step
    /// count, the current learning rate and ``epoch``, with the model's description and ``inputSpec``.
    /// - Throws: ``TrainerError`` `fileSystem`.
    public func saveCheckpoint(to path: String) throws {
        var index = index(kind: .checkpoint)
        index.optimizer = WeightsFile.OptimizerRecord(
            name: optimizer.name, config: optimizer.config,
            learningRate: learningRate, iterations: iterations)
        index.epoch = epoch
        let scratch = kerasScratch()
        var payloads = payloads(of: store.values, named: { $0 }, scratch: scratch)
        for (slot, buffer) in optimizerState.slots {
            payloads += self.payloads(of: buffer, named: { "optimizer/\(slot)/\($0)" }, scratch: scratch)
        }
        try WeightsFile.write(index, payloads: payloads, to: path)
    }

    /// Replaces the weights with those in `path` (a weights file or a checkpoint); the optimizer
    /// state, step count and epoch are left as they are.
    /// - Throws: ``TrainerError`` `fileSystem`, `badWeightsFile`, or `incompatibleWeights` when the
    ///   file's arrays do not match this model's names and shapes.
    public func loadWeights(from path: String) throws {
        let contents = try WeightsFile.read(path)
        try restoreParameters(from: contents)
    }

    /// Restores a checkpoint written by ``saveCheckpoint(to:)``: weights, optimizer state, step
    /// count, learning rate, epoch and the seed dropout masks are drawn from. Training on from here
    /// gives the same weights as training on from the moment it was saved.
    /// - Throws: ``TrainerError`` `fileSystem`, `badWeightsFile`, or `incompatibleWeights` when the
    ///   file is not a checkpoint, its optimizer is another, or its arrays do not match the model.
    public func loadCheckpoint(from path: String) throws {
        try loadCheckpoint(WeightsFile.read(path), from: path)
    }

    /// ``loadCheckpoint(from:)`` of contents already read from `path`.
    func loadCheckpoint(_ contents: WeightsFile.Contents, from path: String) throws {
        guard contents.index.kind == .checkpoint, let record = contents.index.optimizer else {
            throw TrainerError(.incompatibleWeights, "\(path) holds weights only, not a checkpoint with optimizer state")
        }
        guard record.name == optimizer.name, Set(record.config.keys) == Set(optimizer.config.keys) else {
            throw TrainerError(.incompatibleWeights, "\(path) was written by the \(record.name) optimizer; this model uses \(optimizer)")
        }
        try contents.require(
            optimizerState.slots.flatMap { slot, _ in
                store.parameters.map { ("optimizer/\(slot)/\($0.spec.name)", $0.spec.shape) }
            })
        try restoreParameters(from: contents)
        for (slot, buffer) in optimizerState.slots {
            try restore(buffer, from: contents, named: { "optimizer/\(slot)/\($0)" })
        }
        restore(iterations: record.iterations, seed: contents.index.model.seed)
        learningRate = record.learningRate
        epoch = contents.index.epoch ?? 0
    }

    /// A model rebuilt from a weights file or checkpoint alone: its architecture, input image spec,
    /// stored spec, classes, loss, image layout, seed and augmentation from the file's index, then ``loadCheckpoint(from:)``
    /// (a checkpoint, with its optimizer) or ``loadWeights(from:)`` (weights, with Adam's defaults).
    /// A file written before the spec was recorded gives its `input` size with ``ImageSpec/Resize/bilinear``
    /// and a rescale of 1/255 (what every shard set was then).
    /// - Throws: as those, and ``TrainerError`` `badWeightsFile` when the index's model description
    ///   does not make a model.
    public static func load(from path: String) throws -> Model {
        let contents = try WeightsFile.read(path)
        let record = contents.index.model
        guard record.input.count == 3, let loss = Loss(rawValue: record.loss),
            let layout = BatchOptions.ImageLayout(rawValue: record.imageLayout)
        else {
            throw TrainerError(.badWeightsFile, "\(path): the index's model description is incomplete")
        }
        let spec =
            record.spec
            ?? ImageSpec(
                width: record.input[1], height: record.input[0], channels: record.input[2],
                resize: .bilinear, rescale: ImageSpec.defaultRescale)
        guard [spec.height, spec.width, spec.channels] == record.input else {
            throw TrainerError(.badWeightsFile, "\(path): the index's image spec \(spec) does not match its input \(record.input)")
        }
        let optimizer = try contents.index.optimizer.map { try Optimizer(name: $0.name, config: $0.config) } ?? .adam()
        let model = try Model(
            architecture: Architecture(spec: record.architecture),
            inputSpec: spec,
            classes: record.classes, loss: loss, optimizer: optimizer, seed: record.seed, imageLayout: layout)
        if let names = record.classNames, names.count == record.classes {
            // Class names are printed by predict and evaluate: one with a newline would forge lines.
            for name in names {
                do throws(SupportError) { try PathComponent.validate(name, what: "a class name") } catch {
                    throw TrainerError(.badWeightsFile, "\(path): \(error.message): \(error.path)")
                }
            }
            model.classNames = names
        }
        model.storedSpec = record.storedSpec
        model.augmentation = record.augmentation ?? [:]
        model.runOptions = record.run ?? [:]
        if contents.index.kind == .checkpoint {
            try model.loadCheckpoint(from: path)
        } else {
            try model.restoreParameters(from: contents)
        }
        return model
    }

    /// What the checkpoint at `path` records about its run, read from its index alone (no model
    /// is built): the last epoch it holds and the run's options.
    /// - Throws: ``TrainerError`` `fileSystem`, `badWeightsFile`, or `incompatibleWeights` when the
    ///   file holds weights only.
    public static func checkpointRecord(at path: String) throws -> CheckpointRecord {
        let index = try WeightsFile.read(path).index
        guard index.kind == .checkpoint else {
            throw TrainerError(.incompatibleWeights, "\(path) holds weights only, not a checkpoint with optimizer state")
        }
        return CheckpointRecord(epoch: index.epoch ?? 0, options: index.model.run)
    }

    // MARK: Internals

    private func index(kind: WeightsFile.Kind) -> WeightsFile.Index {
        WeightsFile.Index(
            format: WeightsFile.formatName, kind: kind,
            model: WeightsFile.ModelRecord(
                architecture: architecture.description,
                input: [inputSpec.height, inputSpec.width, inputSpec.channels],
                spec: inputSpec,
                classes: classes, loss: loss.rawValue,
                imageLayout: imageLayout.rawValue, seed: seed,
                classNames: classNames, storedSpec: storedSpec,
                augmentation: augmentation.isEmpty ? nil : augmentation, run: runOptions.isEmpty ? nil : runOptions),
            arrays: [], optimizer: nil, epoch: nil)
    }

    /// Room for the largest parameter, for copies in Keras's layout.
    private func kerasScratch() -> FloatBuffer {
        FloatBuffer(count: store.parameters.map(\.spec.count).max() ?? 0)
    }

    /// The parameters of `arena` (values or an optimizer slot) as file arrays in Keras's layout.
    private func payloads(
        of arena: FloatBuffer, named name: @escaping (String) -> String,
        scratch: FloatBuffer
    ) -> [WeightsFile.Payload] {
        store.parameters.map { parameter in
            WeightsFile.Payload(name: name(parameter.spec.name), shape: parameter.spec.shape, layout: parameter.spec.kerasLayout) {
                [store] in
                store.copyToKeras(parameter, from: arena.pointer, into: scratch.pointer)
                return UnsafeBufferPointer(start: scratch.pointer, count: parameter.spec.count)
            }
        }
    }

    /// Fills `arena` (values or an optimizer slot) from the file arrays named after its parameters.
    private func restore(_ arena: FloatBuffer, from contents: WeightsFile.Contents, named name: (String) -> String) throws {
        for parameter in store.parameters {
            try contents.withValues(name(parameter.spec.name), shape: parameter.spec.shape) { values in
                store.copyFromKeras(parameter, values, into: arena.pointer)
            }
        }
    }

    private func restoreParameters(from contents: WeightsFile.Contents) throws {
        try contents.require(store.parameters.map { ($0.spec.name, $0.spec.shape) })
        try restore(store.values, from: contents, named: { $0 })
        store.valuesChanged()
    }
}

extension ParameterSpec {
    /// The layout name written in the file's index: `HWIO`, `IO` (rows in (h, w, c) order after a
    /// flatten) or `O`.
    var kerasLayout: String {
        switch format {
        case .hwio: "HWIO"
        case .oi: "IO"
        case .ohwi: "IO, rows in (h, w, c) order"
        default: "O"
        }
    }
}

extension Optimizer {
    /// The hyper-parameters under Keras's names (`learning_rate`, `beta_1`, ...).
    var config: [String: Double] {
        switch self {
        case let .adam(learningRate, beta1, beta2, epsilon):
            ["learning_rate": decimal(learningRate), "beta_1": decimal(beta1), "beta_2": decimal(beta2), "epsilon": decimal(epsilon)]
        case let .rmsprop(learningRate, rho, momentum, epsilon):
            ["learning_rate": decimal(learningRate), "rho": decimal(rho), "momentum": decimal(momentum), "epsilon": decimal(epsilon)]
        case let .sgd(learningRate, momentum, nesterov):
            ["learning_rate": decimal(learningRate), "momentum": decimal(momentum), "nesterov": nesterov ? 1 : 0]
        }
    }

    /// The optimizer named `name` with the hyper-parameters of `config` (Keras's names).
    /// - Throws: ``TrainerError`` `invalidArgument` for an unknown name, `badWeightsFile` for a
    ///   missing hyper-parameter.
    init(name: String, config: [String: Double]) throws {
        func value(_ key: String) throws -> Float {
            guard let value = config[key] else { throw TrainerError(.badWeightsFile, "the \(name) optimizer's '\(key)' is missing") }
            return Float(value)
        }
        switch try Optimizer(named: name) {
        case .adam:
            self = .adam(
                learningRate: try value("learning_rate"), beta1: try value("beta_1"), beta2: try value("beta_2"),
                epsilon: try value("epsilon"))
        case .rmsprop:
            self = .rmsprop(
                learningRate: try value("learning_rate"), rho: try value("rho"), momentum: try value("momentum"),
                epsilon: try value("epsilon"))
        case .sgd:
            self = .sgd(learningRate: try value("learning_rate"), momentum: try value("momentum"), nesterov: try value("nesterov") != 0)
        }
    }
}

/// The Double with the same shortest decimal form as `value` (0.001, not 0.0010000000474974513), so
/// the JSON reads as written and converts back to exactly `value`.
private func decimal(_ value: Float) -> Double {
    Double("\(value)") ?? Double(value)
}
