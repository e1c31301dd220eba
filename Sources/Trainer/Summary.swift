// Keras's `model.summary()`: one row per layer with its output shape and parameter count, then
// the totals, as a String (the caller prints it).
import Foundation

extension Model {
    /// The Keras-style summary table:
    ///
    /// ```
    /// Model: "sequential"
    /// ________________________________________________________________
    ///  Layer (type)                  Output Shape             Param #
    /// ================================================================
    ///  conv2d (Conv2D)               (None, 150, 150, 16)         448
    ///  ...
    /// ================================================================
    /// Total params: 10,641,441 (40.59 MB)
    /// Trainable params: 10,641,441 (40.59 MB)
    /// Non-trainable params: 0 (0.00 B)
    /// ________________________________________________________________
    /// ```
    ///
    /// Sizes are float32 bytes in Keras's units (1 MB = 1024² bytes).
    /// - Parameter name: the model name in the first line.
    public func summary(name: String = "sequential") -> String {
        let header = ("Layer (type)", "Output Shape", "Param #")
        let rows = layers.map { layer in
            (
                "\(layer.name) (\(layer.typeName))", layer.output.kerasDescription,
                grouped(layer.parameters.reduce(0) { $0 + $1.count })
            )
        }
        let first = max(header.0.count, rows.map(\.0.count).max() ?? 0) + 2
        let second = max(header.1.count, rows.map(\.1.count).max() ?? 0) + 2
        let third = max(header.2.count, rows.map(\.2.count).max() ?? 0)
        let width = 1 + first + second + third + 1
        func line(_ a: String, _ b: String, _ c: String) -> String {
            " " + a.padding(toLength: first, withPad: " ", startingAt: 0) + b.padding(toLength: second, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: third - c.count) + c
        }
        var text = [
            "Model: \"\(name)\"", String(repeating: "_", count: width), line(header.0, header.1, header.2),
            String(repeating: "=", count: width),
        ]
        text += rows.map { line($0.0, $0.1, $0.2) }
        text += [
            String(repeating: "=", count: width),
            "Total params: \(grouped(parameterCount)) (\(size(parameterCount)))",
            "Trainable params: \(grouped(parameterCount)) (\(size(parameterCount)))",
            "Non-trainable params: 0 (\(size(0)))",
            String(repeating: "_", count: width),
        ]
        return text.joined(separator: "\n") + "\n"
    }
}

/// `10641441` → `10,641,441`.
private func grouped(_ value: Int) -> String {
    let digits = Array(String(value))
    return digits.enumerated().map { index, digit in
        index > 0 && (digits.count - index) % 3 == 0 ? ",\(digit)" : String(digit)
    }.joined()
}

/// The float32 size of `count` parameters, as Keras writes it: `40.59 MB`, `1.75 KB`, `0.00 B`.
private func size(_ count: Int) -> String {
    var value = Double(count * MemoryLayout<Float>.stride)
    for unit in ["B", "KB", "MB"] {
        if value < 1024 { return String(format: "%.2f %@", value, unit) }
        value /= 1024
    }
    return String(format: "%.2f GB", value)
}
