import Foundation

/// One epoch's metrics.
public struct EpochRecord: Codable, Sendable, Hashable {
    /// 1-based epoch number (as Keras prints it).
    public var epoch: Int
    /// Mean training loss and accuracy over the epoch's batches (weighted by batch size).
    public var loss: Double
    public var accuracy: Double
    /// Loss and accuracy on the validation set after the epoch, when there is one.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// The learning rate the epoch trained with.
    public var learningRate: Double
    /// Wall-clock seconds for the epoch's training (validation excluded) and its training images/s.
    public var seconds: Double
    public var imagesPerSecond: Double

    public init(
        epoch: Int, loss: Double, accuracy: Double, validationLoss: Double?, validationAccuracy: Double?,
        learningRate: Double, seconds: Double, imagesPerSecond: Double
    ) {
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
    }

    /// The value of `metric`, nil when it was not measured (no validation set).
    public func value(_ metric: Metric) -> Double? {
        switch metric {
        case .loss: loss
        case .accuracy: accuracy
        case .validationLoss: validationLoss
        case .validationAccuracy: validationAccuracy
        }
    }
}

/// A metric a callback can watch, named as Keras names it.
public enum Metric: String, Sendable, Hashable, CaseIterable, Codable {
    case loss
    case accuracy
    case validationLoss = "val_loss"
    case validationAccuracy = "val_accuracy"

    /// Whether larger is better (accuracies) or smaller (losses): Keras's `mode="auto"`.
    public var higherIsBetter: Bool { self == .accuracy || self == .validationAccuracy }
}

/// The metrics of every epoch so far, written as `history.csv` and plotted as SVG learning curves.
public struct History: Sendable, Hashable {
    public var records: [EpochRecord] = []

    public init(records: [EpochRecord] = []) {
        self.records = records
    }

    static let header = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_second"

    /// CSV with a header line; empty fields where there was no validation set. Metrics are written
    /// in full precision, so a resumed run's history reads back exactly.
    public func csv() -> String {
        func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }  // shortest exact form
        return
            ([Self.header]
            + records.map { r in
                [
                    "\(r.epoch)", number(r.loss), number(r.accuracy), number(r.validationLoss), number(r.validationAccuracy),
                    number(r.learningRate), String(format: "%.3f", r.seconds), String(format: "%.1f", r.imagesPerSecond),
                ]
                .joined(separator: ",")
            }).joined(separator: "\n") + "\n"
    }

    /// Reads a `history.csv` written by ``csv()``.
    /// - Throws: ``TrainerError`` `fileSystem` when it cannot be read or parsed.
    public init(csvAt path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainerError(.fileSystem, "cannot read \(path)")
        }
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == Self.header else { throw TrainerError(.fileSystem, "\(path) is not a dataprep history.csv") }
        records = try lines.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
            guard f.count == 8, let epoch = f[0], let loss = f[1], let accuracy = f[2], let rate = f[5],
                let seconds = f[6], let speed = f[7]
            else {
                throw TrainerError(.fileSystem, "\(path): unreadable line '\(line)'")
            }
            return EpochRecord(
                epoch: Int(epoch), loss: loss, accuracy: accuracy, validationLoss: f[3], validationAccuracy: f[4],
                learningRate: rate, seconds: seconds, imagesPerSecond: speed)
        }
    }

    // MARK: - Learning curves

    /// The y range of the accuracy panel: the values' range, padded by 5% on both sides (±0.5
    /// around a constant).
    func accuracyAxis() -> ClosedRange<Double> {
        Self.axis(records.flatMap { [$0.accuracy] + ($0.validationAccuracy.map { [$0] } ?? []) }, top: nil)
    }

    /// The y range of the loss panel. From 3 epochs on, its top is 1.1 × the largest loss
    /// (training or validation) of epoch 2 onwards, when that is below the largest: the first
    /// epoch's spike would otherwise flatten the rest of the curve. Losses above the top are drawn
    /// at the top edge with a marker and their value. The bottom is the smallest loss, padded by 5%.
    func lossAxis() -> ClosedRange<Double> {
        func losses(_ record: EpochRecord) -> [Double] { [record.loss] + (record.validationLoss.map { [$0] } ?? []) }
        let later = records.dropFirst().flatMap(losses)
        return Self.axis(records.flatMap(losses), top: records.count >= 3 ? later.max().map { $0 * 1.1 } : nil)
    }

    /// The range of `values` padded by 5% (±0.5 around a constant), its top lowered to `top`
    /// (unpadded) when that is given and below the largest value.
    static func axis(_ values: [Double], top: Double?) -> ClosedRange<Double> {
        var low = values.min() ?? 0, high = values.max() ?? 1
        let clipped = top.map { $0 < high && $0 > low } ?? false
        if clipped, let top { high = top }
        if high - low < 1e-9 { return (low - 0.5)...(high + 0.5) }
        let pad = (high - low) * 0.05
        low -= pad
        return low...(clipped ? high : high + pad)
    }

    /// Two side-by-side panels, accuracy and loss against epoch, training (solid) vs validation
    /// (dashed), as a self-contained SVG document. The loss axis leaves out the first epoch's spike
    /// (see ``lossAxis()``): a loss above it is drawn at the top edge, marked with a triangle and
    /// its value.
    public func svg(title: String = "Training and validation") -> String {
        let panelWidth = 420.0, panelHeight = 300.0, margin = 50.0
        var body = ""
        func panel(_ index: Int, name: String, training: [Double], validation: [Double?], axis: ClosedRange<Double>) {
            let x0 = margin + Double(index) * (panelWidth + margin), y0 = 50.0
            let low = axis.lowerBound, high = axis.upperBound
            let epochs = max(records.count, 2)
            func point(_ i: Int, _ v: Double) -> String {
                let x = x0 + Double(i) / Double(epochs - 1) * panelWidth
                guard v <= high else {
                    body += String(
                        format:
                            "<path d=\"M%.1f,%.1f l-4,7 h8 z\" fill=\"#d62728\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#d62728\">%.3g</text>\n",
                        x, y0, x + 6, y0 + 9, v)
                    return String(format: "%.1f,%.1f", x, y0)
                }
                return String(format: "%.1f,%.1f", x, y0 + (1 - (v - low) / (high - low)) * panelHeight)
            }
            body += String(
                format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
                x0, y0, panelWidth, panelHeight)
            body += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\">%@</text>\n",
                x0 + panelWidth / 2, y0 - 12, name)
            for t in 0...4 {  // y ticks
                let v = low + (high - low) * Double(t) / 4, y = y0 + (1 - Double(t) / 4) * panelHeight
                body += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.3g</text>\n", x0 - 5, y + 4, v)
                body += String(
                    format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", x0, y, x0 + panelWidth, y)
            }
            for (i, record) in records.enumerated() where records.count <= 20 || i % (records.count / 10) == 0 {
                let x = x0 + Double(i) / Double(epochs - 1) * panelWidth
                body += String(
                    format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%d</text>\n",
                    x, y0 + panelHeight + 16, record.epoch)
            }
            body += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n",
                x0 + panelWidth / 2, y0 + panelHeight + 34)
            let trainingPoints = training.enumerated().map { point($0.offset, $0.element) }.joined(separator: " ")
            body += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(trainingPoints)\"/>\n"
            let validationPoints = validation.enumerated().compactMap { i, v in v.map { point(i, $0) } }.joined(separator: " ")
            if !validationPoints.isEmpty {
                body +=
                    "<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" stroke-dasharray=\"6,4\" points=\"\(validationPoints)\"/>\n"
            }
        }
        panel(
            0, name: "accuracy", training: records.map(\.accuracy), validation: records.map(\.validationAccuracy),
            axis: accuracyAxis())
        panel(1, name: "loss", training: records.map(\.loss), validation: records.map(\.validationLoss), axis: lossAxis())
        let width = 3 * margin + 2 * panelWidth, height = 420.0
        let legend = """
            <line x1="60" y1="395" x2="90" y2="395" stroke="#1f77b4" stroke-width="2"/><text x="95" y="399" font-size="12">training</text>
            <line x1="180" y1="395" x2="210" y2="395" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6,4"/><text x="215" y="399" font-size="12">validation</text>
            """
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="20" text-anchor="middle" font-size="16">\(title)</text>
            \(body)\(legend)
            </svg>

            """
    }
}
