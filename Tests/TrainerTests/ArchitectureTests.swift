import Shards
import TestSupport
import Testing

@testable import Trainer

/// Layer-spec parsing and its errors, the presets' parameter counts (checked by hand against
/// Keras's formulas below), architecture validation and the summary table.
@Suite struct ArchitectureTests {
    // MARK: Spec strings

    @Test func specStringsParseWithKerasDefaults() throws {
        let architecture = try Architecture(
            spec: " conv32 , pool,drop0.25,conv64:k5:s2:valid:sigmoid,pool3:s1:same,flatten,dense128:linear,dense10")
        #expect(
            architecture.layers == [
                .conv2D(filters: 32), .maxPooling2D(), .dropout(rate: 0.25),
                .conv2D(filters: 64, kernelSize: 5, stride: 2, padding: .valid, activation: .sigmoid),
                .maxPooling2D(poolSize: 3, stride: 1, padding: .same), .flatten, .dense(units: 128, activation: .linear),
                .dense(units: 10),
            ])
        #expect(architecture.description == "conv32,pool,drop0.25,conv64:k5:s2:valid:sigmoid,pool3:s1:same,flatten,dense128:linear,dense10")
        #expect(try Architecture(spec: architecture.description) == architecture)
    }

    @Test func presetsAreTheirSpecStrings() throws {
        for preset in Preset.allCases {
            #expect(try Architecture(spec: preset.spec) == preset.architecture, "\(preset)")
            #expect(try Architecture(presetOrSpec: preset.rawValue) == preset.architecture)
        }
        #expect(Preset.tutorial.spec == "conv16,pool,conv32,pool,conv64,pool,flatten,dense512,output")
        #expect(Preset.tutorialDropout.spec == "conv16,pool,drop0.3,conv32,pool,conv64,pool,drop0.3,flatten,dense512,drop0.1,output")
    }

    @Test(arguments: [
        ("", "empty"),
        ("conv32,,pool", "layer 2, an empty layer"),
        ("conv32,pool,", "layer 3, an empty layer"),
        ("conv", "layer 1, 'conv': needs a filter count"),
        ("conv0", "'0' is not a whole number in 1...1000000"),
        ("conv3x", "'3x' is not a whole number"),
        ("conv8:k0", "kernel size must be 1...1000000, got 'k0'"),
        ("conv8:k3:k5", "kernel size given more than once"),
        ("conv8:same:valid", "padding given more than once"),
        ("conv8:tanh", "unknown option 'tanh'"),
        ("conv8:", "empty option after ':'"),
        ("pool:relu", "layer 1, 'pool:relu': unknown option 'relu'; options here: s<stride>, same or valid"),
        ("dense", "needs a unit count"),
        ("dense10:valid", "unknown option 'valid'"),
        ("drop1", "needs a rate in [0, 1)"),
        ("drop", "needs a rate in [0, 1)"),
        ("drop-0.1", "needs a rate in [0, 1)"),
        ("flatten3", "takes no number"),
        ("output:softmax", "unknown option 'softmax'"),
        ("conv8,maxpool", "layer 2, 'maxpool': unknown layer 'maxpool'; expected conv, pool, dense, drop, flatten or output"),
        ("tutorail", "'tutorail' is neither a preset (tutorial, tutorial-dropout, chollet, shallowvgg, fashion, mlp) nor a layer spec"),
    ])
    func badSpecsAreNamedWithTheirPosition(spec: String, message: String) {
        let error = expectError(TrainerError.self, .invalidSpec) { try Architecture(presetOrSpec: spec) }
        #expect(error?.message.contains(message) == true, "\(error.map(\.message) ?? "")")
    }

    // MARK: Fitting to an input

    @Test(arguments: [
        ("conv8,flatten,conv8,output", "layer 3, 'conv8': needs an image input"),
        ("conv8,dense16,output", "layer 2, 'dense16': needs a flat input, but gets a 6×6×8 image; put a flatten before it"),
        ("conv8:k7:valid,flatten,output", "layer 1, 'conv8:k7:valid': its 7×7 window does not fit the 6×6 input"),
        ("pool,pool,pool,flatten,output", "layer 3, 'pool': its 2×2 window does not fit the 1×1 input"),
        ("flatten,output,dense3", "'output' must be the last layer"),
        ("flatten,dense16", "the last layer must give the 3 classes: dense3 (softmax), or 'output'"),
        ("flatten,dense3:sigmoid", "the last layer must give the 3 classes"),
        ("flatten,dense1", "the last layer must give the 3 classes"),
        ("conv8,pool", "the last layer must be the output layer"),
        ("flatten,drop0.5", "the last layer must be the output layer, not a dropout"),
    ])
    func architecturesThatDoNotFitTheInputAreRejected(spec: String, message: String) throws {
        let architecture = try Architecture(spec: spec)
        let error = expectError(TrainerError.self, .invalidArchitecture) {
            try resolve(architecture, input: ImageSpec(width: 6, height: 6, channels: 1), classes: 3)
        }
        #expect(error?.message.contains(message) == true, "\(error.map(\.message) ?? "")")
    }

    @Test func theOutputLayerFollowsTheClassCount() throws {
        let binary = try resolve(Preset.mlp.architecture, input: ImageSpec(width: 4, height: 4, channels: 1), classes: 2)
        guard case let .dense(units, activation) = binary.last!.operation else { Issue.record("not dense"); return }
        #expect(units == 1 && activation == .sigmoid)
        let multi = try resolve(Architecture(spec: "flatten,dense5"), input: ImageSpec(width: 4, height: 4, channels: 1), classes: 5)
        guard case let .dense(units5, activation5) = multi.last!.operation else { Issue.record("not dense"); return }
        #expect(units5 == 5 && activation5 == .softmax)
        expectError(TrainerError.self, .invalidArgument) {
            try Model(
                architecture: Preset.mlp.architecture, inputSpec: ImageSpec(width: 4, height: 4, channels: 1), classes: 2,
                loss: .sparseCategoricalCrossentropy)
        }
        expectError(TrainerError.self, .invalidArgument) {
            try Model(architecture: Preset.mlp.architecture, inputSpec: ImageSpec(width: 4, height: 4, channels: 1), classes: 1)
        }
    }

    // MARK: Parameter counts

    /// Total parameters of a preset, from the resolved layers (no weights allocated).
    func parameters(_ preset: Preset, _ height: Int, _ width: Int, _ channels: Int, classes: Int) throws -> Int {
        try resolve(preset.architecture, input: ImageSpec(width: width, height: height, channels: channels), classes: classes)
            .flatMap(\.parameters).reduce(0) { $0 + $1.count }
    }

    @Test func presetParameterCountsMatchKeras() throws {
        // Keras: Conv2D has kh·kw·in·out + out parameters, Dense in·out + out; 'same' keeps the size,
        // 'valid' takes k − 1 off, a 2×2 pool halves it (rounding down).
        // tutorial at 150×150×3, 2 classes: conv 3→16: 3·9·16+16 = 448; pool → 75; conv 16→32:
        // 4,640; pool → 37; conv 32→64: 18,496; pool → 18; flatten 18·18·64 = 20,736;
        // dense 512: 20,736·512+512 = 10,617,344; dense 1: 513. Total 10,641,441.
        #expect(try parameters(.tutorial, 150, 150, 3, classes: 2) == 10_641_441)
        // Dropout adds no parameters.
        #expect(try parameters(.tutorialDropout, 150, 150, 3, classes: 2) == 10_641_441)
        // chollet at 150×150×3, 2 classes: conv 3→32 valid: 896 → 148 → pool 74; conv 32→32: 9,248
        // → 72 → 36; conv 32→64: 18,496 → 34 → 17; flatten 17·17·64 = 18,496; dense 64:
        // 18,496·64+64 = 1,183,808; dense 1: 65. Total 1,212,513.
        #expect(try parameters(.chollet, 150, 150, 3, classes: 2) == 1_212_513)
        // shallowvgg at 32×32×3, 10 classes: 896 + 9,248 (→ pool 16) + 18,496 + 36,928 (→ pool 8);
        // flatten 8·8·64 = 4,096; dense 512: 2,097,664; dense 10: 5,130. Total 2,168,362.
        #expect(try parameters(.shallowvgg, 32, 32, 3, classes: 10) == 2_168_362)
        // fashion at 28×28×1, 10 classes: conv 1→64 valid: 640 → 26 → 13; conv 64→64: 36,928 → 11
        // → 5; flatten 5·5·64 = 1,600; dense 128: 204,928; dense 10: 1,290. Total 243,786 (the
        // figure Keras prints for the Fashion-MNIST convolutions notebook).
        #expect(try parameters(.fashion, 28, 28, 1, classes: 10) == 243_786)
        // mlp at 28×28×1, 10 classes: dense 784→128: 100,480; dense 10: 1,290. Total 101,770.
        #expect(try parameters(.mlp, 28, 28, 1, classes: 10) == 101_770)
    }

    @Test func summaryIsKerasStyle() throws {
        let model = try Model(
            architecture: Preset.tutorialDropout.architecture, inputSpec: ImageSpec(width: 150, height: 150, channels: 3),
            classes: 2)
        #expect(model.parameterCount == 10_641_441)
        #expect(
            model.summary() == """
                Model: "sequential"
                __________________________________________________________________
                 Layer (type)                    Output Shape             Param #
                ==================================================================
                 conv2d (Conv2D)                 (None, 150, 150, 16)         448
                 max_pooling2d (MaxPooling2D)    (None, 75, 75, 16)             0
                 dropout (Dropout)               (None, 75, 75, 16)             0
                 conv2d_1 (Conv2D)               (None, 75, 75, 32)         4,640
                 max_pooling2d_1 (MaxPooling2D)  (None, 37, 37, 32)             0
                 conv2d_2 (Conv2D)               (None, 37, 37, 64)        18,496
                 max_pooling2d_2 (MaxPooling2D)  (None, 18, 18, 64)             0
                 dropout_1 (Dropout)             (None, 18, 18, 64)             0
                 flatten (Flatten)               (None, 20736)                  0
                 dense (Dense)                   (None, 512)           10,617,344
                 dropout_2 (Dropout)             (None, 512)                    0
                 dense_1 (Dense)                 (None, 1)                    513
                ==================================================================
                Total params: 10,641,441 (40.59 MB)
                Trainable params: 10,641,441 (40.59 MB)
                Non-trainable params: 0 (0.00 B)
                __________________________________________________________________

                """)
    }
}
