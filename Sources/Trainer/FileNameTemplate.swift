// Keras's checkpoint file-name templates (`weights.{epoch:02d}-{val_loss:.2f}.dpw`), parsed once
// before training starts so a mistyped field is refused before anything is written.
import Foundation

/// A checkpoint file-name template: literal text with `{field}` or `{field:format}` fields.
///
/// The fields are `epoch` (format `d`, e.g. `{epoch:02d}`) and the metrics `loss`, `accuracy`,
/// `val_loss`, `val_accuracy` (formats `f`, `e`, `g`, e.g. `{val_loss:.2f}`; `g` when none is
/// given). A format is printf's: optional flags (`-+ 0#`), a width of at most 2 digits, a
/// precision of at most 2 digits, then the type. The result is a path: relative to the run folder,
/// or absolute when it starts with `/`; its folders are created when a file is saved.
public struct FileNameTemplate: Sendable, Hashable {
    /// A piece of the template: literal text or a field with its printf format (with the `%`).
    enum Part: Sendable, Hashable {
        case text(String)
        case epoch(format: String)
        case metric(Metric, format: String)
    }

    /// The template as given.
    public let text: String
    let parts: [Part]

    /// The fields a template may name, in the order error messages list them.
    public static let fieldNames = ["epoch"] + Metric.allCases.map(\.rawValue)

    /// Parses `text`.
    /// - Throws: ``TrainerError`` `invalidArgument` naming the template and the unknown field, the
    ///   format that is not printf's for its field, the `{` without a `}` or the `}` without a `{`,
    ///   or saying that the template names no file (empty, or ending in `/`).
    public init(_ text: String) throws(TrainerError) {
        func refuse(_ why: String) -> TrainerError {
            TrainerError(.invalidArgument, "the checkpoint template '\(text)' \(why)")
        }
        var parts: [Part] = [], rest = Substring(text)
        while let brace = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            if brace > rest.startIndex { parts.append(.text(String(rest[..<brace]))) }
            guard rest[brace] == "{" else { throw refuse("has a '}' without a '{'") }
            guard let close = rest[brace...].firstIndex(of: "}") else { throw refuse("has a '{' without a '}'") }
            let field = rest[rest.index(after: brace)..<close]
            guard !field.contains("{") else { throw refuse("has a '{' inside the field {\(field)}") }
            let pieces = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pieces[0]), format = pieces.count > 1 ? String(pieces[1]) : ""
            if name == "epoch" {
                guard let printf = Self.printfFormat(format, types: "d", default: "d") else {
                    throw refuse("has the format '\(format)' for {epoch}: give an integer format such as 02d")
                }
                parts.append(.epoch(format: printf))
            } else if let metric = Metric(rawValue: name) {
                guard let printf = Self.printfFormat(format, types: "feg", default: "g") else {
                    throw refuse("has the format '\(format)' for {\(name)}: give a number format such as .2f, .3e or g")
                }
                parts.append(.metric(metric, format: printf))
            } else {
                throw refuse(
                    "has an unknown field {\(field)}: the fields are " + Self.fieldNames.map { "{\($0)}" }.joined(separator: ", "))
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        guard !text.isEmpty, !text.hasSuffix("/") else { throw refuse("names no file") }
        self.text = text
        self.parts = parts
    }

    /// The metrics the template names (a file name needs them measured).
    public var metrics: [Metric] {
        parts.compactMap { if case .metric(let metric, _) = $0 { metric } else { nil } }
    }

    /// The file name for the epoch `record`; a metric it did not measure is written `nan`.
    public func fileName(for record: EpochRecord) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .epoch(let format): String(format: format, record.epoch)
            case .metric(let metric, let format): record.value(metric).map { String(format: format, $0) } ?? "nan"
            }
        }
        .joined()
    }

    /// `%` + `format` when it is a printf format of one of `types` (flags, width and precision of
    /// at most 2 digits each), `%` + `fallback` when it is empty; nil otherwise.
    static func printfFormat(_ format: String, types: String, default fallback: String) -> String? {
        guard !format.isEmpty else { return "%" + fallback }
        var rest = Substring(format)
        while let first = rest.first, "-+ 0#".contains(first) { rest = rest.dropFirst() }
        let width = rest.prefix(while: { $0.isASCII && $0.isNumber })
        rest = rest.dropFirst(width.count)
        if rest.first == "." {
            let precision = rest.dropFirst().prefix(while: { $0.isASCII && $0.isNumber })
            guard !precision.isEmpty, precision.count <= 2 else { return nil }
            rest = rest.dropFirst(1 + precision.count)
        }
        guard width.count <= 2, rest.count == 1, let type = rest.first, types.contains(type) else { return nil }
        return "%" + format
    }
}
