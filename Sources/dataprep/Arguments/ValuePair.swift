import ArgumentParser
import Foundation

/// One number or two separated by a comma (`0.2`, `0.8,1.2`).
struct ValuePair: ExpressibleByArgument, CustomStringConvertible {
    var low: Double
    var high: Double?

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let first = parts[0], parts.allSatisfy({ $0 != nil }) else { return nil }
        low = first
        high = parts.count == 2 ? parts[1] : nil
    }

    var description: String { high.map { "\(low),\($0)" } ?? "\(low)" }
}
