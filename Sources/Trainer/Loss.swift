// Cross-entropy losses computed from the last layer's logits, the numerically stable way (as Keras
// does when the output sigmoid/softmax is its own: it uses the logits behind it), with their
// gradient and the accuracy count. A batch is a few hundred values: plain Swift loops in Double.
import Foundation

// MARK: - Losses and labels

/// The training loss, with Keras's name and meaning (mean over the batch).
public enum Loss: String, Sendable, Hashable, CaseIterable {
    /// For a `Dense(1, sigmoid)` output and 2 classes: −[t·log p + (1 − t)·log(1 − p)]. Labels are
    /// class indices (0 or 1) or one-hot rows of 2 (t = the second column).
    case binaryCrossentropy = "binary_crossentropy"
    /// For a softmax output: −Σ t_k log p_k over one-hot (or soft) target rows.
    case categoricalCrossentropy = "categorical_crossentropy"
    /// For a softmax output: −log p_label over class indices.
    case sparseCategoricalCrossentropy = "sparse_categorical_crossentropy"

    /// The loss Keras would pair with an output activation: binary for sigmoid, sparse categorical
    /// (class-index labels, what ``BatchLoader`` gives by default) for softmax.
    static func natural(for output: Activation) -> Loss {
        output == .sigmoid ? .binaryCrossentropy : .sparseCategoricalCrossentropy
    }
}

/// The labels of a batch, borrowed for the duration of a call.
public enum Labels {
    /// One class index per image (``Batch/labels``).
    case indices(UnsafeBufferPointer<Int32>)
    /// One row of `classes` targets per image, each row summing to 1 (``Batch/oneHot``).
    case oneHot(UnsafeBufferPointer<Float>)
}

// MARK: - Evaluation

extension Loss {
    /// Checks that `labels` suit this loss and hold `batch` samples of `classes` classes.
    /// - Throws: ``TrainerError`` `invalidArgument` naming the problem (count, form, a class index
    ///   out of range).
    func validate(_ labels: Labels, batch: Int, classes: Int) throws {
        switch labels {
        case let .indices(indices):
            guard self != .categoricalCrossentropy else {
                throw TrainerError(
                    .invalidArgument, "categorical_crossentropy takes one-hot labels; use sparse_categorical_crossentropy for class indices"
                )
            }
            guard indices.count == batch else {
                throw TrainerError(.invalidArgument, "\(indices.count) labels for \(batch) images")
            }
            if let bad = indices.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
                throw TrainerError(.invalidArgument, "label \(indices[bad]) of sample \(bad) is not a class index in 0..<\(classes)")
            }
        case let .oneHot(rows):
            guard self != .sparseCategoricalCrossentropy else {
                throw TrainerError(
                    .invalidArgument, "sparse_categorical_crossentropy takes class indices; use categorical_crossentropy for one-hot labels"
                )
            }
            guard rows.count == batch * classes else {
                throw TrainerError(
                    .invalidArgument, "\(rows.count) one-hot values for \(batch) images of \(classes) classes (expected \(batch * classes))"
                )
            }
        }
    }

    /// The summed loss over the batch and the number of correct predictions, from `logits` (batch ×
    /// units, row-major). When `gradient` is given, d(mean loss)/d(logits) is written there. NaN or
    /// infinite logits give a NaN or infinite loss, never a trap.
    func evaluate(
        logits: UnsafePointer<Float>, units: Int, batch: Int, classes: Int, labels: Labels,
        gradient: UnsafeMutablePointer<Float>?
    ) -> (loss: Double, correct: Int) {
        var total = 0.0, correct = 0
        let perSample = 1 / Double(batch)
        for sample in 0..<batch {
            let row = logits + sample * units
            let (loss, isCorrect) =
                switch self {
                case .binaryCrossentropy:
                    Self.binary(
                        row.pointee, target: target(labels, sample, column: 1, classes: classes),
                        gradient: gradient.map { $0 + sample }, scale: perSample)
                case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
                    Self.categorical(
                        row, units: units, sample: sample, labels: labels,
                        gradient: gradient.map { $0 + sample * units }, scale: perSample)
                }
            total += loss
            if isCorrect { correct += 1 }
        }
        return (total, correct)
    }

    /// The target of `sample` for class `column`.
    private func target(_ labels: Labels, _ sample: Int, column: Int, classes: Int) -> Double {
        switch labels {
        case let .indices(indices): Int(indices[sample]) == column ? 1 : 0
        case let .oneHot(rows): Double(rows[sample * classes + column])
        }
    }

    /// max(z, 0) − z·t + log(1 + e^−|z|): the sigmoid cross-entropy without overflow for any z.
    private static func binary(
        _ logit: Float, target: Double, gradient: UnsafeMutablePointer<Float>?,
        scale: Double
    ) -> (Double, Bool) {
        let z = Double(logit)
        let loss = max(z, 0) - z * target + log1p(exp(-abs(z)))
        let probability = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
        gradient?.pointee = Float((probability - target) * scale)
        return (loss, (z > 0) == (target > 0.5))
    }

    /// log-sum-exp(z) · Σt − Σ t_k z_k, from the largest logit down; gradient (softmax · Σt − t).
    private static func categorical(
        _ row: UnsafePointer<Float>, units: Int, sample: Int, labels: Labels,
        gradient: UnsafeMutablePointer<Float>?, scale: Double
    ) -> (Double, Bool) {
        var largest = -Double.infinity, predicted = 0
        for k in 0..<units where Double(row[k]) > largest || k == 0 {
            largest = Double(row[k])
            predicted = k
        }
        var sum = 0.0
        for k in 0..<units { sum += exp(Double(row[k]) - largest) }
        let logSumExp = largest + log(sum)
        func target(_ k: Int) -> Double {
            switch labels {
            case let .indices(indices): Int(indices[sample]) == k ? 1 : 0
            case let .oneHot(rows): Double(rows[sample * units + k])
            }
        }
        var loss = 0.0, targetSum = 0.0, actual = 0, actualTarget = -Double.infinity
        for k in 0..<units {
            let t = target(k)
            loss -= t * Double(row[k])
            targetSum += t
            if t > actualTarget { actualTarget = t; actual = k }
        }
        loss += logSumExp * targetSum
        if let gradient {
            for k in 0..<units {
                gradient[k] = Float((exp(Double(row[k]) - logSumExp) * targetSum - target(k)) * scale)
            }
        }
        return (loss, predicted == actual)
    }
}

// MARK: - Output activations

/// The output activation applied to logits in place (batch × units, row-major): sigmoid, or
/// softmax over each row.
func applyOutputActivation(_ activation: Activation, to values: UnsafeMutablePointer<Float>, units: Int, batch: Int) {
    for sample in 0..<batch {
        let row = values + sample * units
        switch activation {
        case .sigmoid:
            for k in 0..<units {
                let z = Double(row[k])
                row[k] = Float(z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)))
            }
        case .softmax:
            var largest = -Double.infinity
            for k in 0..<units { largest = max(largest, Double(row[k])) }
            var sum = 0.0
            for k in 0..<units { sum += exp(Double(row[k]) - largest) }
            for k in 0..<units { row[k] = Float(exp(Double(row[k]) - largest) / sum) }
        case .relu, .linear:
            break
        }
    }
}
