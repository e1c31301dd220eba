public import ArgumentParser
public import Augment
import Foundation

extension ShiftRange: ExpressibleByArgument {
    /// `0.2` (a float: uniform), `3` (an integer: whole pixels, Keras's int form) or `5,10` (a list).
    public init?(argument: String) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count > 1 {
            let values = parts.compactMap(Double.init)
            guard values.count == parts.count else { return nil }
            self = .choices(values)
        } else if let n = Int(argument) {
            self = .wholePixels(n)
        } else if let w = Double(argument) {
            self = .uniform(w)
        } else {
            return nil
        }
    }

    /// The form it was given in.
    var argument: String {
        switch self {
        case .uniform(let w): "\(w)"
        case .choices(let values): values.map { "\($0)" }.joined(separator: ",")
        case .wholePixels(let n): "\(n)"
        }
    }
}
