import Foundation
import Shards
import Testing

@testable import Trainer

/// Every layer's forward pass against the Float64 reference (so the Keras layouts and padding are
/// right, not only self-consistent), and every parameter's gradient from oneDNN's backward passes
/// against central finite differences of the Float64 reference loss. The model computes in float32
/// and the reference in float64, so they agree to float32 accuracy (~1e-6 relative per value);
/// finite differences with h = 1e-5 in float64 are accurate to ~1e-9, and with random weights no
/// relu or max-pool decision sits within h of its switching point. The tolerances allow the float32
/// rounding of a few hundred accumulated products.
@Suite struct GradientTests {
    /// Runs both checks on `spec` with a random batch.
    func check(
        _ spec: String, input: ImageSpec, classes: Int, batch: Int = 3, loss: Loss? = nil, seed: UInt64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let model = try Model(architecture: Architecture(spec: spec), inputSpec: input, classes: classes, loss: loss, seed: seed)
        let images = randomValues(batch * input.elementCount, seed: seed &+ 1)
        let labels = (0..<batch).map { Int32(($0 * 7 + Int(seed)) % classes) }
        let oneHot = labels.flatMap { label in (0..<classes).map { $0 == Int(label) ? Float(1) : 0 } }

        // Forward: the model's probabilities are the reference's.
        let reference = ReferenceModel(model, training: false)
        let probabilities = try images.withUnsafeBufferPointer { try model.predict(images: $0) }
        let expected = reference.logits(images.map(Double.init), batch: batch).flatMap { row -> [Double] in
            if model.outputActivation == .sigmoid { return row.map { 1 / (1 + exp(-$0)) } }
            let largest = row.max()!, exps = row.map { exp($0 - largest) }, sum = exps.reduce(0, +)
            return exps.map { $0 / sum }
        }
        #expect(probabilities.count == expected.count, sourceLocation: sourceLocation)
        for (value, wanted) in zip(probabilities, expected) {
            #expect(abs(Double(value) - wanted) <= 1e-5, "\(spec): forward \(value) vs reference \(wanted)", sourceLocation: sourceLocation)
        }

        // Backward: analytic gradients against finite differences of the reference loss.
        let modelLoss = try images.withUnsafeBufferPointer { images in
            try labels.withUnsafeBufferPointer { indices in
                try oneHot.withUnsafeBufferPointer { rows in
                    try model.computeGradients(
                        images: images,
                        labels: model.loss == .categoricalCrossentropy ? .oneHot(rows) : .indices(indices))
                }
            }
        }
        var training = ReferenceModel(model, training: true)
        let inputs = images.map(Double.init)
        #expect(
            abs(modelLoss - training.meanLoss(inputs, labels: labels)) <= 1e-5 * max(1, abs(modelLoss)),
            "\(spec): loss", sourceLocation: sourceLocation)
        let h = 1e-5
        var worst = 0.0
        for parameter in model.store.parameters {
            let name = parameter.spec.name
            var gradient = [Float](repeating: 0, count: parameter.spec.count)
            model.store.copyToKeras(parameter, from: model.store.gradients.pointer, into: &gradient)
            for i in 0..<parameter.spec.count {
                let analytic = Double(gradient[i])
                let original = training.weights[name]![i]
                training.weights[name]![i] = original + h
                let plus = training.meanLoss(inputs, labels: labels)
                training.weights[name]![i] = original - h
                let minus = training.meanLoss(inputs, labels: labels)
                training.weights[name]![i] = original
                let numeric = (plus - minus) / (2 * h)
                let error = abs(analytic - numeric)
                worst = max(worst, error / (2e-5 + 2e-3 * abs(numeric)))
                #expect(
                    error <= 2e-5 + 2e-3 * abs(numeric), "\(spec): \(name)[\(i)] analytic \(analytic) vs numeric \(numeric)",
                    sourceLocation: sourceLocation)
            }
        }
        #expect(worst <= 1, sourceLocation: sourceLocation)
    }

    @Test func convolutionSamePaddingReluMaxPoolAndValidSigmoidConvolution() throws {
        // conv 'same' + relu, whose backward runs in the max-pool after it; a 'valid' sigmoid conv,
        // whose backward runs in the next max-pool; a sigmoid dense layer; softmax output.
        try check(
            "conv4,pool,conv5:valid:sigmoid,pool,flatten,dense6:sigmoid,output",
            input: ImageSpec(width: 9, height: 9, channels: 2), classes: 3, seed: 11)
    }

    @Test func stridedConvolutionsWithAsymmetricSamePaddingAndLinearActivation() throws {
        // 8 wide, kernel 3, stride 2, 'same': output 4, padding 0 before and 1 after.
        try check(
            "conv3:s2,conv4:k2:s2:valid:linear,flatten,output",
            input: ImageSpec(width: 8, height: 8, channels: 2), classes: 4, seed: 12)
    }

    @Test func softmaxActivationsAndSameMaxPoolingWithStride() throws {
        // Channel softmax in a convolution, an overlapping 'same' 3×3/2 pool, a hidden softmax
        // dense layer; categorical cross-entropy on one-hot labels.
        try check(
            "conv4:softmax,pool3:s2:same,conv3,flatten,dense6:softmax,output",
            input: ImageSpec(width: 7, height: 7, channels: 1), classes: 3, loss: .categoricalCrossentropy, seed: 13)
    }

    @Test func denseLayersDropoutAndBinaryCrossEntropy() throws {
        // Flatten first (the input goes straight into a dense layer), dropout at 0.4 in a dense
        // context, a sigmoid output with binary cross-entropy.
        try check(
            "flatten,dense8,drop0.4,dense6:sigmoid,output",
            input: ImageSpec(width: 3, height: 3, channels: 2), classes: 2, batch: 4, seed: 14)
    }

    @Test func winogradConvolutionsMatchTheReference() throws {
        // At batch 64 on 16×16 images oneDNN computes the 16 → 32 convolution's forward and
        // backward-data passes with Winograd F(4×4, 3×3) on AVX-512 machines (checked when this
        // test was written; elsewhere it falls back to direct and the test checks that). Too many
        // parameters for one finite difference each: the forward is compared value by value, the
        // gradient along one random direction d (Σ g·d against a central difference of the
        // reference loss along d). The step is tiny because moving every weight at once moves
        // each of the 800,000 relu inputs, and at 1e-6 a few of them cross zero (a 0.3% error).
        let input = ImageSpec(width: 16, height: 16, channels: 1), batch = 64
        let model = try Model(architecture: Architecture(spec: "conv16,conv32,pool,flatten,output"), inputSpec: input, classes: 3, seed: 21)
        let images = randomValues(batch * input.elementCount, seed: 22)
        let labels = (0..<batch).map { Int32($0 % 3) }
        let probabilities = try images.withUnsafeBufferPointer { try model.predict(images: $0) }
        let reference = ReferenceModel(model, training: false)
        let inputs = images.map(Double.init)
        for (row, logits) in reference.logits(inputs, batch: batch).enumerated() {
            let largest = logits.max()!, exps = logits.map { exp($0 - largest) }, sum = exps.reduce(0, +)
            for (k, value) in exps.enumerated() {
                #expect(abs(Double(probabilities[row * 3 + k]) - value / sum) <= 1e-5)
            }
        }
        _ = try images.withUnsafeBufferPointer { images in
            try labels.withUnsafeBufferPointer { try model.computeGradients(images: images, labels: .indices($0)) }
        }
        var analytic = 0.0
        var plus = ReferenceModel(model, training: true), minus = plus
        let step = 1e-8
        for (index, parameter) in model.store.parameters.enumerated() {
            var gradient = [Float](repeating: 0, count: parameter.spec.count)
            model.store.copyToKeras(parameter, from: model.store.gradients.pointer, into: &gradient)
            let direction = randomValues(parameter.spec.count, seed: 100 + UInt64(index)).map(Double.init)
            analytic += zip(gradient, direction).reduce(0) { $0 + Double($1.0) * $1.1 }
            let name = parameter.spec.name
            plus.weights[name] = zip(plus.weights[name]!, direction).map { $0 + step * $1 }
            minus.weights[name] = zip(minus.weights[name]!, direction).map { $0 - step * $1 }
        }
        let numeric = (plus.meanLoss(inputs, labels: labels) - minus.meanLoss(inputs, labels: labels)) / (2 * step)
        #expect(abs(analytic - numeric) <= 1e-6 + 1e-4 * abs(numeric), "Σ g·d \(analytic) vs \(numeric)")
    }

    @Test func everyLossGradientMatchesFiniteDifferences() {
        // The losses on their own, over logits: d(mean loss)/d(logit) against central differences
        // in float64 of the same loss evaluated through Loss.evaluate (float32 logits, float64 sums).
        let batch = 3, classes = 4
        let logits: [Float] = [0.3, -1.2, 2.5, 0.1, -0.7, 0.0, 1.1, -2.2, 4.0, 3.5, -3.0, 0.2]
        let indices: [Int32] = [2, 0, 1]
        let soft: [Float] = [0.1, 0.2, 0.6, 0.1, 1, 0, 0, 0, 0, 0.5, 0.5, 0]
        indices.withUnsafeBufferPointer { indices in
            expectLossGradient(
                .sparseCategoricalCrossentropy, logits: logits, units: classes, batch: batch, classes: classes,
                labels: .indices(indices))
        }
        soft.withUnsafeBufferPointer { soft in
            expectLossGradient(
                .categoricalCrossentropy, logits: logits, units: classes, batch: batch, classes: classes,
                labels: .oneHot(soft))
        }
        let binaryLogits: [Float] = [2.0, -0.5, 30.0]
        let binaryLabels: [Int32] = [1, 1, 0]
        binaryLabels.withUnsafeBufferPointer { labels in
            expectLossGradient(.binaryCrossentropy, logits: binaryLogits, units: 1, batch: batch, classes: 2, labels: .indices(labels))
        }
    }

    private func expectLossGradient(_ loss: Loss, logits: [Float], units: Int, batch: Int, classes: Int, labels: Labels) {
        var gradient = [Float](repeating: 0, count: logits.count)
        _ = logits.withUnsafeBufferPointer { values in
            gradient.withUnsafeMutableBufferPointer {
                loss.evaluate(
                    logits: values.baseAddress!, units: units, batch: batch, classes: classes, labels: labels,
                    gradient: $0.baseAddress)
            }
        }
        // Perturbing float32 logits by h = 1e-2 keeps the rounding of the logit itself (~1e-9) far
        // below the difference; the curvature error of a central difference is h²·f‴/6 ≲ 1e-5.
        let h: Float = 1e-2
        for i in logits.indices {
            var plus = logits, minus = logits
            plus[i] += h
            minus[i] -= h
            let up = plus.withUnsafeBufferPointer {
                loss.evaluate(logits: $0.baseAddress!, units: units, batch: batch, classes: classes, labels: labels, gradient: nil).loss
            }
            let down = minus.withUnsafeBufferPointer {
                loss.evaluate(logits: $0.baseAddress!, units: units, batch: batch, classes: classes, labels: labels, gradient: nil).loss
            }
            let numeric = (up - down) / Double(2 * h) / Double(batch)
            #expect(abs(Double(gradient[i]) - numeric) <= 1e-4, "\(loss) logit \(i): \(gradient[i]) vs \(numeric)")
        }
    }

    @Test func largeLogitsGiveFiniteLossesAndNaNInputsGiveNaN() {
        let indices: [Int32] = [0, 1]
        indices.withUnsafeBufferPointer { labels in
            let huge: [Float] = [-1e30, 1e30, -1e30, 1e30]  // the first sample confidently wrong, the second right
            let result = huge.withUnsafeBufferPointer {
                Loss.sparseCategoricalCrossentropy.evaluate(
                    logits: $0.baseAddress!, units: 2, batch: 2, classes: 2,
                    labels: .indices(labels), gradient: nil)
            }
            #expect(abs(result.loss / 2e30 - 1) < 1e-6)  // Float(1e30) is not exactly 1e30
            #expect(result.correct == 1)
            let binary: [Float] = [200, 200]
            let stable = binary.withUnsafeBufferPointer {
                Loss.binaryCrossentropy.evaluate(
                    logits: $0.baseAddress!, units: 1, batch: 2, classes: 2,
                    labels: .indices(labels), gradient: nil)
            }
            #expect(abs(stable.loss - 200) < 1e-9)  // the first sample is confidently wrong, the second right
            let nan: [Float] = [.nan, 0]
            let broken = nan.withUnsafeBufferPointer {
                Loss.binaryCrossentropy.evaluate(
                    logits: $0.baseAddress!, units: 1, batch: 2, classes: 2,
                    labels: .indices(labels), gradient: nil)
            }
            #expect(broken.loss.isNaN)
        }
    }
}
