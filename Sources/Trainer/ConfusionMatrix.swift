public import Shards

/// Counts of (true class, predicted class) over a shard set: `counts[truth][predicted]`.
public struct ConfusionMatrix: Sendable, Hashable {
    public var counts: [[Int]]

    /// Predicts every sample of `set` (copy 0 of each image) and counts the outcomes. A sigmoid
    /// output predicts class 1 when its probability is above 0.5.
    /// - Parameters:
    ///   - transformation: resamples each sample to the model's input (for a set of the model's
    ///     ``Model/storedSpec``); nil feeds the samples as stored.
    /// - Throws: ``TrainerError`` `invalidArgument` when the set does not fit the model (its image
    ///   spec — size, channels, resize or rescale — or its class count differs), or the reader's
    ///   errors.
    public init(_ model: Model, on set: ShardSet, batchSize: Int = 100, transformation: SampleTransformation? = nil) throws {
        try Fitting.check(set, fits: model, through: transformation)
        var options = Fitting.batchOptions(for: model, batchSize: batchSize, seed: 0, shuffle: false, prefetch: 4)
        options.labels = .indices
        let loader = try BatchLoader(set: set, options: options, transformation: transformation)
        let batches = loader.epoch(0)
        counts = Array(repeating: Array(repeating: 0, count: model.classes), count: model.classes)
        let units = model.outputUnits
        while let batch = try batches.next() {
            let probabilities = try model.predict(images: batch.images)
            for row in 0..<batch.count {
                let output = probabilities[row * units..<(row + 1) * units]
                let predicted =
                    units == 1
                    ? (output.first! > 0.5 ? 1 : 0)
                    : output.indices.max { output[$0] < output[$1] }! - row * units
                counts[Int(batch.labels![row])][predicted] += 1
            }
        }
    }

    /// A text table: rows are true classes, columns predicted classes (numbered as in the legend).
    public func table(classNames: [String]) -> String {
        let width = max(6, counts.joined().map { String($0).count }.max() ?? 1)
        let nameWidth = max(5, classNames.map(\.count).max() ?? 0) + 4
        func pad(_ text: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - text.count)) + text }
        var lines = [
            "confusion matrix (rows: true class, columns: predicted class)",
            pad("", nameWidth) + counts.indices.map { pad("\($0)", width + 1) }.joined(),
        ]
        for (i, row) in counts.enumerated() {
            let name = "\(i) " + (i < classNames.count ? classNames[i] : "")
            lines.append(
                name + String(repeating: " ", count: max(0, nameWidth - name.count)) + row.map { pad("\($0)", width + 1) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
