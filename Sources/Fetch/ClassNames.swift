import Datasets
import Support

// MARK: - Class names

/// Checks on class names that become folder names.
enum ClassNames {
    /// Checks that every name can be a visible class folder: Support's
    /// `PathComponent.validate(_:what:)` (a single name: not empty, `.` or `..`, no `/`, NUL or
    /// control character), not hidden (a leading `.` would hide the class), and no name twice.
    /// - Throws: ``FetchError`` `badLayout` when `names` is empty, a name breaks a rule, or a name
    ///   appears twice; the message says which name and why.
    static func check(_ names: [String], subject: String) throws {
        guard !names.isEmpty else { throw FetchError(.badLayout, "there are no class names", subject: subject) }
        for name in names {
            do {
                try PathComponent.validate(name, what: "a class name")
            } catch {
                throw FetchError(.badLayout, "\"\(error.path)\": \(error.message)", subject: subject)
            }
            guard !DatasetDirectory.isHidden(name) else {
                throw FetchError(.badLayout, "\"\(name)\" cannot be a class folder name: it would be hidden", subject: subject)
            }
        }
        guard Set(names).count == names.count else {
            throw FetchError(.badLayout, "class names are not all different", subject: subject)
        }
    }
}
