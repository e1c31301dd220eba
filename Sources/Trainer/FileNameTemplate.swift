// Keras's checkpoint file-name templates (`weights.{epoch:02d}-{val_loss:.2f}.dpw`), parsed once
// before training starts so a mistyped field is refused before anything is written.
import Foundation
import Support

/// A checkpoint file-name template: literal text with `{field}` or `{field:format}` fields.
///
/// The fields are `epoch` (format `d`, e.g. `{epoch:02d}`) and the metrics `loss`, `accuracy`,
/// `val_loss`, `val_accuracy` (formats `f`, `e`, `g`, e.g. `{val_loss:.2f}`; `g` when none is
/// given). A format is printf's: optional flags (`+0#`), a width (with the `0` flag) of at most
/// 20, a precision of at most 17, then the type. The result is a path: relative to the run folder,
/// or absolute when it starts with `/`; its folders are created when a file is saved. It stays
/// inside the run folder (or the absolute folder named): no empty, `.` or `..` component, no
/// control character, no space at the start or end of a name, no name longer than 255 bytes,
/// and never a file the run itself writes (``reservedNames``).
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
        if let control = text.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            throw TrainerError(
                .invalidArgument,
                "the checkpoint template '\(PathComponent.escaped(text))' holds the control character "
                    + "\(control.escaped(asASCII: true)): file names must not")
        }
        // Each field stands for one character that is never `/`, `.` or a space (what a number
        // renders as), so the components below are those of every name the template gives.
        let skeleton = parts.map { part -> String in if case .text(let text) = part { text } else { "0" } }.joined()
        var components = skeleton.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if skeleton.hasPrefix("/") { components.removeFirst() }
        for (index, component) in components.enumerated() {
            if component.isEmpty || component == "." || component == ".." {
                throw refuse(
                    "has the path component '\(component)': a template names a file inside the run folder "
                        + "(or inside the absolute folder it names), without empty, `.` or `..` components")
            }
            if component.first?.isWhitespace == true || component.last?.isWhitespace == true {
                throw refuse("has a space at the start or end of the name '\(component)'")
            }
            if component.utf8.count + 40 * parts.filter({ if case .text = $0 { false } else { true } }).count > PathComponent.maximumBytes {
                throw refuse("gives names longer than \(PathComponent.maximumBytes) bytes")
            }
            if index == 0 && !skeleton.hasPrefix("/"), let name = Self.reservedName(component) {
                throw refuse("names \(name), a file the run itself writes: choose another name")
            }
        }
        self.text = text
        self.parts = parts
    }

    /// The files a run writes in its folder, which a template must not name (nor their
    /// temporary names): the history, curves, checkpoint, best and final weights, and the lock.
    public static let reservedNames = [
        Fitting.historyName, Fitting.curvesName, Fitting.checkpointName, Fitting.bestName, Fitting.finalWeightsName,
        FolderLock.fileName,
    ]

    /// The reserved run file `name` is, or is the temporary file of (`history.csv.tmp-…`); nil when
    /// it is neither.
    static func reservedName(_ name: String) -> String? {
        reservedNames.first { name == $0 || name.hasPrefix($0 + ".tmp-") }
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

    /// `%` + `format` when it is a printf format of one of `types`, `%` + `fallback` when it is
    /// empty; nil otherwise. Flags are `0`, `+` and `#`, each at most once (`-` and ` ` would put
    /// spaces into file names); a width needs the `0` flag (zero padding, not spaces) and is at
    /// most 20; a precision is at most 17 (a Double's significant digits).
    static func printfFormat(_ format: String, types: String, default fallback: String) -> String? {
        guard !format.isEmpty else { return "%" + fallback }
        var rest = Substring(format), flags = ""
        while let first = rest.first, "+0#".contains(first), !flags.contains(first) {
            flags.append(first)
            rest = rest.dropFirst()
        }
        let width = rest.prefix(while: { $0.isASCII && $0.isNumber })
        rest = rest.dropFirst(width.count)
        if rest.first == "." {
            let precision = rest.dropFirst().prefix(while: { $0.isASCII && $0.isNumber })
            guard !precision.isEmpty, precision.count <= 2, let digits = Int(precision), digits <= 17 else { return nil }
            rest = rest.dropFirst(1 + precision.count)
        }
        guard width.count <= 2, (Int(width) ?? 0) <= 20, width.isEmpty || flags.contains("0"), rest.count == 1,
            let type = rest.first, types.contains(type)
        else { return nil }
        return "%" + format
    }
}
