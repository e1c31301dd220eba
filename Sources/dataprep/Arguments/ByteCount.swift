import ArgumentParser
import Foundation

/// A byte count such as `256MB`, `1.5GiB`, `4096` (decimal and binary units both accepted).
struct ByteCount: ExpressibleByArgument {
    var bytes: Int

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [
            ("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6),
            ("KB", 1e3), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024), ("B", 1),
        ]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
            value * scale >= 1, value * scale <= Double(1 << 50)
        else { return nil }
        bytes = Int(value * scale)
    }

    var defaultValueDescription: String {
        bytes % 1_048_576 == 0 ? "\(bytes / 1_048_576)MiB" : "\(bytes) bytes"
    }
}
