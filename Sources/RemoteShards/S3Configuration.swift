public import Foundation
import Support
public import Transfer

/// How to reach S3 (or an S3-compatible server: MinIO, Ceph, R2, GCS's S3 API) and sign for it,
/// from the usual environment and files of the AWS tools, without an AWS SDK:
///
/// - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, else the
///   profile `AWS_PROFILE` (default `default`) of `~/.aws/credentials` (or
///   `AWS_SHARED_CREDENTIALS_FILE`): `aws_access_key_id`, `aws_secret_access_key`,
///   `aws_session_token`. Without any, requests go unsigned (public buckets).
/// - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region` in `~/.aws/config` (or
///   `AWS_CONFIG_FILE`), else `us-east-1`.
/// - endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else
///   `https://s3.REGION.amazonaws.com`.
/// - addressing: path style (`ENDPOINT/bucket/key`) for a configured endpoint or a bucket name
///   with dots, virtual-host style (`https://bucket.s3.REGION.amazonaws.com/key`) for AWS;
///   `DATAPREP_S3_ADDRESSING=path|virtual` chooses.
public struct S3Configuration: Sendable, Hashable {
    /// `scheme://host[:port]`, without a trailing slash.
    public var endpoint: String
    /// The region requests are signed for.
    public var region: String
    /// Nil: requests are not signed.
    public var signature: AWSSignature?
    /// Whether the bucket goes into the path (true) or the host name.
    public var pathStyle: Bool

    /// The configuration the environment and the AWS files give.
    /// - Throws: ``RemoteSetError`` `credentials` for an access key without a secret (or the
    ///   reverse), an unreadable credentials file, or a profile it does not hold; `invalidLocation`
    ///   for an endpoint that is not an http(s) URL or an unknown addressing style.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        home: String = NSHomeDirectory()
    ) throws(RemoteSetError) -> S3Configuration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let profile = value("AWS_PROFILE") ?? "default"
        let credentialsFile = value("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
        let configFile = value("AWS_CONFIG_FILE") ?? home + "/.aws/config"
        let credentials = try IniFile(path: credentialsFile, required: value("AWS_SHARED_CREDENTIALS_FILE") != nil)
        let config = try IniFile(path: configFile, required: value("AWS_CONFIG_FILE") != nil)
        let configSection = profile == "default" ? "default" : "profile " + profile

        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? config.value("region", in: configSection) ?? "us-east-1"
        guard region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw RemoteSetError(.credentials, "'\(region)' is not an AWS region name")
        }
        var key = value("AWS_ACCESS_KEY_ID"), secret = value("AWS_SECRET_ACCESS_KEY"), token = value("AWS_SESSION_TOKEN")
        if key == nil && secret == nil {
            key = credentials.value("aws_access_key_id", in: profile)
            secret = credentials.value("aws_secret_access_key", in: profile)
            token = credentials.value("aws_session_token", in: profile)
            if value("AWS_PROFILE") != nil && key == nil && !credentials.sections.contains(profile) {
                throw RemoteSetError(.credentials, "AWS_PROFILE names the profile '\(profile)', which \(credentialsFile) does not hold")
            }
        }
        let signature: AWSSignature?
        switch (key, secret) {
        case let (key?, secret?): signature = AWSSignature(region: region, accessKey: key, secretKey: secret, sessionToken: token)
        case (nil, nil): signature = nil
        default:
            throw RemoteSetError(
                .credentials, "an access key needs its secret and a secret its key: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }

        let configured = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? config.value("endpoint_url", in: configSection)
        var endpoint = configured ?? "https://s3.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard let components = URLComponents(string: endpoint), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            components.host?.isEmpty == false, components.path.isEmpty, components.query == nil
        else {
            throw RemoteSetError(.invalidLocation, "the S3 endpoint '\(endpoint)' is not an http(s)://host[:port] URL", subject: endpoint)
        }
        let pathStyle: Bool
        switch value("DATAPREP_S3_ADDRESSING") {
        case nil: pathStyle = configured != nil
        case "path": pathStyle = true
        case "virtual": pathStyle = false
        case let other?:
            throw RemoteSetError(.invalidLocation, "DATAPREP_S3_ADDRESSING must be path or virtual, got '\(other)'")
        }
        return S3Configuration(endpoint: endpoint, region: region, signature: signature, pathStyle: pathStyle)
    }

    /// The URL of `key` in `bucket`, with `query` (already encoded) when given.
    public func url(bucket: String, key: String, query: String? = nil) -> String {
        let suffix = query.map { "?" + $0 } ?? ""
        if pathStyle || bucket.contains(".") {
            return "\(endpoint)/\(bucket)/\(key)\(suffix)"
        }
        let scheme = endpoint.hasPrefix("http://") ? "http://" : "https://"
        return scheme + bucket + "." + endpoint.dropFirst(scheme.count) + "/" + key + suffix
    }
}

/// An INI file as the AWS tools write them: `[section]` lines, then `name = value` lines.
private struct IniFile {
    private var values: [String: [String: String]] = [:]

    /// The sections the file holds.
    var sections: Set<String> { Set(values.keys) }

    /// Reads `path`; a missing file is empty unless `required`.
    init(path: String, required: Bool) throws(RemoteSetError) {
        guard FileIO.exists(path) else {
            if required { throw RemoteSetError(.credentials, "the file is not there", subject: path) }
            return
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readFile(at: path, limit: 1 << 20) } catch {
            throw RemoteSetError(.credentials, "cannot read: \(error.message)", subject: path)
        }
        var section = ""
        for raw in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                values[section, default: [:]] = values[section] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[section, default: [:]][name] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
    }

    func value(_ name: String, in section: String) -> String? { values[section]?[name].flatMap { $0.isEmpty ? nil : $0 } }
}
