import Foundation

/// Parses layer-spec strings; the grammar is documented on ``Architecture/init(spec:)``.
enum SpecParser {
    /// The largest filter, unit, size or stride count a layer spec may give.
    static let maximumNumber = 1_000_000

    /// The layers of `spec`.
    /// - Throws: ``TrainerError`` `invalidSpec` naming the layer (1-based position and text) and
    ///   what is wrong with it.
    static func parse(_ spec: String) throws -> [LayerSpec] {
        let tokens = spec.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard tokens != [""] else {
            throw TrainerError(.invalidSpec, "the layer spec is empty; write layers such as conv32,pool,flatten,output")
        }
        return try tokens.enumerated().map { index, token in
            do {
                return try layer(token)
            } catch let problem as Problem {
                let shown = token.isEmpty ? "an empty layer (two commas in a row, or one at an end?)" : "'\(token)'"
                throw TrainerError(.invalidSpec, "layer \(index + 1), \(shown): \(problem.text)")
            }
        }
    }

    /// What is wrong with one token; `parse` adds where it is.
    private struct Problem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    private static let layerNames = "conv, pool, dense, drop, flatten or output"

    private static func layer(_ token: String) throws -> LayerSpec {
        var parts = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let head = parts.removeFirst()
        let name = String(head.prefix { $0.isLetter })
        let number = String(head.dropFirst(name.count))
        var options = Options(parts)
        switch name {
        case "conv":
            let filters = try whole(number, "a filter count, as in conv32")
            let kernel = try options.number("k", "kernel size") ?? 3
            let stride = try options.number("s", "stride") ?? 1
            let padding = try options.padding() ?? .same
            let activation = try options.activation() ?? .relu
            try options.finish(allowed: "k<size>, s<stride>, same, valid, relu, sigmoid, softmax or linear")
            return .conv2D(filters: filters, kernelSize: kernel, stride: stride, padding: padding, activation: activation)
        case "pool":
            let size = number.isEmpty ? 2 : try whole(number, "a window size, as in pool3")
            let stride = try options.number("s", "stride")
            let padding = try options.padding() ?? .valid
            try options.finish(allowed: "s<stride>, same or valid")
            return .maxPooling2D(poolSize: size, stride: stride, padding: padding)
        case "dense":
            let units = try whole(number, "a unit count, as in dense128")
            let activation = try options.activation()
            try options.finish(allowed: "relu, sigmoid, softmax or linear")
            return .dense(units: units, activation: activation)
        case "drop":
            guard let rate = Float(number), rate >= 0, rate < 1 else {
                throw Problem("needs a rate in [0, 1), as in drop0.25")
            }
            try options.finish(allowed: "none")
            return .dropout(rate: rate)
        case "flatten", "output":
            guard number.isEmpty else { throw Problem("takes no number") }
            try options.finish(allowed: "none")
            return name == "flatten" ? .flatten : .output
        default:
            throw Problem("unknown layer '\(name.isEmpty ? head : name)'; expected \(layerNames)")
        }
    }

    /// A whole number ≥ 1 written right after a layer name.
    private static func whole(_ text: String, _ what: String) throws -> Int {
        guard !text.isEmpty else { throw Problem("needs \(what)") }
        guard let value = Int(text), (1...maximumNumber).contains(value) else {
            throw Problem("'\(text)' is not a whole number in 1...\(maximumNumber); needs \(what)")
        }
        return value
    }

    /// A layer's `:`-separated options, consumed one kind at a time.
    private struct Options {
        private var remaining: [String]

        init(_ options: [String]) { remaining = options }

        /// The value of the option `prefix<N>` (e.g. `k5`), nil when absent.
        mutating func number(_ prefix: Character, _ what: String) throws -> Int? {
            let matches = remaining.filter { $0.first == prefix && $0.dropFirst().allSatisfy(\.isNumber) && $0.count > 1 }
            guard let match = try single(matches, what) else { return nil }
            guard let value = Int(match.dropFirst()), (1...maximumNumber).contains(value) else {
                throw Problem("\(what) must be 1...\(maximumNumber), got '\(match)'")
            }
            return value
        }

        mutating func padding() throws -> Padding? {
            try single(remaining.filter { Padding(rawValue: $0) != nil }, "padding").flatMap(Padding.init(rawValue:))
        }

        mutating func activation() throws -> Activation? {
            try single(remaining.filter { Activation(rawValue: $0) != nil }, "activation").flatMap(Activation.init(rawValue:))
        }

        /// Throws for anything not consumed.
        func finish(allowed: String) throws {
            guard let unknown = remaining.first else { return }
            throw Problem(unknown.isEmpty ? "empty option after ':'" : "unknown option '\(unknown)'; options here: \(allowed)")
        }

        private mutating func single(_ matches: [String], _ what: String) throws -> String? {
            guard matches.count <= 1 else { throw Problem("\(what) given more than once (\(matches.joined(separator: ", ")))") }
            guard let match = matches.first else { return nil }
            remaining.remove(at: remaining.firstIndex(of: match)!)
            return match
        }
    }
}
