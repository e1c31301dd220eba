// MARK: - Names from input

/// The one check on a file or folder name that comes from input (a URL's last path segment after
/// percent-decoding, `--name`, an archive entry's path components, a class name), so that what is
/// written under a folder stays in that folder.
public enum PathComponent {
    /// The longest name accepted, in UTF-8 bytes (Linux's `NAME_MAX`).
    public static let maximumBytes = 255

    /// Checks that `name` is a single path component that stays inside its folder: not empty,
    /// not `.` or `..`, no `/`, no NUL or other control character (U+0000–U+001F, U+007F–U+009F),
    /// at most ``maximumBytes`` UTF-8 bytes. Hidden names (`.x`) pass: callers that need a visible
    /// name check that themselves.
    /// - Parameters:
    ///   - name: the name to check.
    ///   - what: what the name is for, for the message (`"the dataset name"`, `"a class name"`).
    /// - Throws: ``SupportError`` `badName` saying which rule `name` breaks; the path is the name as
    ///   given, with control characters escaped.
    public static func validate(_ name: String, what: String) throws(SupportError) {
        let reason: String? =
            if name.isEmpty {
                "it is empty"
            } else if name == "." || name == ".." {
                "`\(name)` names a folder, not an entry in it"
            } else if name.contains("/") {
                "it holds `/`, so it is a path, not a single name"
            } else if name.unicodeScalars.contains(where: { $0.value == 0 }) {
                "it holds a NUL character"
            } else if name.unicodeScalars.contains(where: isControl) {
                "it holds a control character"
            } else if name.utf8.count > maximumBytes {
                "it is \(name.utf8.count) bytes long, more than \(maximumBytes)"
            } else {
                nil
            }
        guard let reason else { return }
        throw SupportError(.badName, "\(what) must be a single file or folder name, but \(reason)", path: escaped(name))
    }

    /// `name` with control characters written as escapes (`\n`, `\u{7F}`), for messages.
    public static func escaped(_ name: String) -> String {
        name.unicodeScalars.map { isControl($0) ? $0.escaped(asASCII: true) : String($0) }.joined()
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
