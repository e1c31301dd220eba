import Foundation

/// Where a shard set is: a local folder, a folder on a web server (`https://host/path/set`, any
/// static server with Range requests), or a prefix in an S3 bucket (`s3://bucket/prefix`). The
/// set's files are named relative to it (`manifest.json`, `train-00000.dps`, `validation/...`).
public enum SetLocation: Sendable, Hashable, CustomStringConvertible {
    case folder(String)
    /// An `http://` or `https://` URL, without a trailing slash.
    case web(String)
    /// A bucket and a key prefix (no leading or trailing slash; empty for the bucket's root).
    case s3(bucket: String, prefix: String)

    /// Whether `text` names a remote set (it starts with `http://`, `https://` or `s3://`).
    public static func isRemote(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("s3://")
    }

    /// Parses a folder path or a URL.
    /// - Throws: ``RemoteSetError`` `invalidLocation` saying what is wrong: another scheme, no
    ///   host, credentials, a query or fragment in a URL, control characters or spaces, a bucket
    ///   name S3 does not allow, or a key prefix with characters outside `A-Z a-z 0-9 . _ - / ~`
    ///   or an empty or `..` segment; an empty `text` (which would name the working folder, or `/`
    ///   once a file name is appended).
    public init(_ text: String) throws(RemoteSetError) {
        guard !text.isEmpty else {
            throw RemoteSetError(.invalidLocation, "an empty path names no set: give the set's folder or URL", subject: text)
        }
        guard Self.isRemote(text) else {
            if let scheme = text.range(of: "://"), !text[..<scheme.lowerBound].contains("/") {
                throw RemoteSetError(
                    .invalidLocation,
                    "\(text[..<scheme.lowerBound]):// is not a scheme dataprep reads sets from: use a folder, http://, https:// or s3://",
                    subject: text)
            }
            self = .folder(text)
            return
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw RemoteSetError(.invalidLocation, "a set URL cannot hold spaces or control characters", subject: text)
        }
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.lowercased().hasPrefix("s3://") {
            let rest = trimmed.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
            guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "." || $0 == "-" }),
                bucket.first?.isLetter == true || bucket.first?.isNumber == true
            else {
                throw RemoteSetError(
                    .invalidLocation, "'\(bucket)' is not an S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')", subject: text)
            }
            try Self.checkKey(prefix, in: text)
            self = .s3(bucket: bucket, prefix: prefix)
            return
        }
        guard let components = URLComponents(string: trimmed), let host = components.host, !host.isEmpty else {
            throw RemoteSetError(.invalidLocation, "not a URL with a host", subject: text)
        }
        guard components.user == nil, components.password == nil else {
            throw RemoteSetError(
                .invalidLocation, "credentials in a set URL are not accepted (they would be printed and recorded)", subject: text)
        }
        guard components.query == nil, components.fragment == nil else {
            throw RemoteSetError(.invalidLocation, "a set URL names a folder: no query (?) or fragment (#)", subject: text)
        }
        try Self.checkKey(String(components.path.drop { $0 == "/" }), in: text)
        self = .web(trimmed)
    }

    /// Refuses key prefixes and paths S3's SigV4 canonical form or a cache could read two ways, and
    /// object names (a manifest's shard files, the names an upload gives) that a server could decode
    /// into another path (`%2e%2e%2f`, `?`, `#`): only A-Z, a-z, 0-9, `.`, `_`, `-`, `~` and `/`
    /// between non-empty segments other than `.` and `..`.
    /// - Throws: ``RemoteSetError`` `invalidLocation` naming `text`.
    static func checkKey(_ key: String, in text: String) throws(RemoteSetError) {
        guard key.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || "._-/~".contains($0) }) else {
            throw RemoteSetError(
                .invalidLocation, "the path '\(key)' may only hold A-Z, a-z, 0-9, '.', '_', '-', '~' and '/'", subject: text)
        }
        guard
            key.isEmpty
                || !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == ".." || $0 == "." })
        else {
            throw RemoteSetError(.invalidLocation, "the path '\(key)' has an empty, '.' or '..' segment", subject: text)
        }
    }

    /// Whether the set is on a server or in a bucket.
    public var isRemote: Bool {
        if case .folder = self { return false }
        return true
    }

    /// The location of `name` inside this one (a file, or a folder such as `validation`).
    public func appending(_ name: String) -> SetLocation {
        switch self {
        case .folder(let path): .folder(path + "/" + name)
        case .web(let base): .web(base + "/" + name)
        case .s3(let bucket, let prefix): .s3(bucket: bucket, prefix: prefix.isEmpty ? name : prefix + "/" + name)
        }
    }

    /// The folder path or URL, as a user writes it.
    public var description: String {
        switch self {
        case .folder(let path): path
        case .web(let base): base
        case .s3(let bucket, let prefix): "s3://\(bucket)" + (prefix.isEmpty ? "" : "/" + prefix)
        }
    }
}
