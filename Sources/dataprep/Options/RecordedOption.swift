import ArgumentParser
import Codecs
import Foundation
import Trainer

// MARK: - Options a run records, and resuming with them

/// An option value that can be written back as the argument that gives it: `init(argument:)` of
/// ``argumentText`` is the value again.
protocol RecordableArgument: ExpressibleByArgument {
    /// The argument that gives this value.
    var argumentText: String { get }
}

extension String: RecordableArgument { var argumentText: String { self } }
extension Int: RecordableArgument { var argumentText: String { "\(self)" } }
extension UInt64: RecordableArgument { var argumentText: String { "\(self)" } }
extension Double: RecordableArgument { var argumentText: String { "\(self)" } }
extension Float: RecordableArgument { var argumentText: String { "\(self)" } }
extension PixelSize: RecordableArgument { var argumentText: String { "\(width)x\(height)" } }

extension RawRepresentable where Self: RecordableArgument, RawValue == String {
    var argumentText: String { rawValue }
}

/// One option of a command that its run records (in the checkpoint, through
/// ``Model/runOptions``), so that `train --resume` can reuse it: how to read it as given, its
/// default, and how to set it from the record.
struct RecordedOption<Command> {
    /// How the option is written on a command line.
    enum Kind {
        /// `--name VALUE`.
        case value
        /// `--name`, recorded as `true` or `false`.
        case flag
        /// `--name VALUE` once per value, recorded as the values joined by spaces.
        case list
    }

    /// What a resumed run may do with the option.
    enum OnResume {
        /// Give it again only with the recorded value (it shapes the batches or the weights).
        case sameValue
        /// Give it another value (where the data is now; more epochs).
        case anyValue
    }

    /// The flag without its dashes (`batch-size`): the key in the record.
    let name: String
    let kind: Kind
    let onResume: OnResume
    /// The value as given on the command line, as it is recorded; nil when not given.
    let given: (Command) -> String?
    /// The value the command uses when the option is not given; nil when there is none.
    let fallback: (Command) -> String?
    /// Sets the option to a recorded value; false when the value does not parse.
    let adopt: (inout Command, String) -> Bool

    /// An option with a value (nil when not given), recorded as ``RecordableArgument/argumentText``
    /// (or as `recordAs` makes it: an absolute path for a folder), with `fallback` as its default.
    static func value<Value: RecordableArgument>(
        _ name: String, _ path: WritableKeyPath<Command, Value?>, default fallback: Value? = nil,
        onResume: OnResume = .sameValue, recordAs: @escaping (String) -> String = { $0 }
    ) -> Self {
        value(name, path, default: { _ in fallback?.argumentText }, onResume: onResume, recordAs: recordAs)
    }

    /// An option with a value whose default depends on other options (`--lr`: the optimizer's).
    static func value<Value: RecordableArgument>(
        _ name: String, _ path: WritableKeyPath<Command, Value?>, default fallback: @escaping (Command) -> String?,
        onResume: OnResume = .sameValue, recordAs: @escaping (String) -> String = { $0 }
    ) -> Self {
        RecordedOption(
            name: name, kind: .value, onResume: onResume, given: { $0[keyPath: path].map { recordAs($0.argumentText) } },
            fallback: fallback,
            adopt: { command, text in
                guard let value = Value(argument: text) else { return false }
                command[keyPath: path] = value
                return true
            })
    }

    /// A flag: given when set; recorded as `true` or `false`.
    static func flag(_ name: String, _ path: WritableKeyPath<Command, Bool>) -> Self {
        RecordedOption(
            name: name, kind: .flag, onResume: .sameValue, given: { $0[keyPath: path] ? "true" : nil }, fallback: { _ in "false" },
            adopt: { command, text in
                guard let value = Bool(text) else { return false }
                command[keyPath: path] = value
                return true
            })
    }

    /// A repeatable option: given when it appears at least once; recorded as its values joined
    /// by spaces (none of them holds one).
    static func list(_ name: String, _ path: WritableKeyPath<Command, [String]>) -> Self {
        RecordedOption(
            name: name, kind: .list, onResume: .sameValue,
            given: { $0[keyPath: path].isEmpty ? nil : $0[keyPath: path].joined(separator: " ") },
            fallback: { _ in nil },
            adopt: { command, text in
                command[keyPath: path] = text.split(separator: " ").map(String.init)
                return true
            })
    }

    /// How the option reads on a command line with `value` (as recorded): `--flip`, `--rotate
    /// 40.0`, `--stop-at accuracy=0.9 --stop-at loss=0.1`; `without --flip` for a flag not set.
    func commandLine(_ value: String) -> String {
        switch kind {
        case .flag: value == "true" ? "--\(name)" : "without --\(name)"
        case .list: value.split(separator: " ").map { "--\(name) \(ShellWords.quoted(String($0)))" }.joined(separator: " ")
        case .value: "--\(name) \(ShellWords.quoted(value))"
        }
    }
}

extension Array {
    /// The record of `command`'s options: each one's value as given, or its default (an option
    /// with neither is left out).
    func record<Command>(of command: Command) -> [String: String] where Element == RecordedOption<Command> {
        var record: [String: String] = [:]
        for option in self {
            record[option.name] = option.given(command) ?? option.fallback(command)
        }
        return record
    }

    /// Gives `command` the recorded value of every option it does not give, and checks that
    /// every option it gives again has the recorded value (unless the option may change on
    /// resume). An option the record does not hold keeps its default.
    /// - Parameters:
    ///   - recorded: the run's record (``record(of:)`` of the command that started it).
    ///   - run: the run folder, for the message.
    /// - Returns: the options taken from the record whose value is not their default, as they
    ///   read on a command line, for the command to say what it resumes with.
    /// - Throws: `ValidationError` naming only the options given with another value, each with
    ///   the value the run was trained with.
    func resume<Command>(_ command: inout Command, recorded: [String: String], run: String) throws -> [String]
    where Element == RecordedOption<Command> {
        var conflicts: [String] = [], adopted: [String] = []
        for option in self {
            let value = recorded[option.name]
            guard let given = option.given(command) else {
                guard let value else { continue }
                guard option.adopt(&command, value) else {
                    throw ValidationError("\(run): the checkpoint records --\(option.name) '\(value)', which this version cannot read")
                }
                if value != option.fallback(command) { adopted.append(option.commandLine(value)) }
                continue
            }
            guard option.onResume == .sameValue, given != (value ?? option.fallback(command)) else { continue }
            let trained = value.map(option.commandLine) ?? "without --\(option.name)"
            conflicts.append(option.commandLine(given) + " (the run's: \(trained))")
        }
        guard conflicts.isEmpty else {
            throw ValidationError(
                "--resume continues the run in \(run) with the options it was trained with, and "
                    + conflicts.joined(separator: "; ") + (conflicts.count == 1 ? " differs" : " differ")
                    + ": leave \(conflicts.count == 1 ? "it" : "them") out (or give the run's value), "
                    + "or start a new run with --overwrite or another --run-dir")
        }
        return adopted
    }
}
