/// Checks on class names that become folder names.
enum ClassNames {
    /// - Throws: ``FetchError`` `badLayout` when `names` is empty, or a name is empty, holds `/`
    ///   or a NUL, starts with `.`, or appears twice.
    static func check(_ names: [String], subject: String) throws {
        guard !names.isEmpty else { throw FetchError(.badLayout, "there are no class names", subject: subject) }
        for name in names where name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.contains("\0") {
            throw FetchError(.badLayout, "\"\(name)\" cannot be a class folder name", subject: subject)
        }
        guard Set(names).count == names.count else {
            throw FetchError(.badLayout, "class names are not all different", subject: subject)
        }
    }
}
