import Foundation
import RemoteShards
import TestSupport
import Testing

/// What a user may type as a set, and what is refused before anything is asked of a server.
@Suite struct SetLocationTests {
    @Test func foldersURLsAndBucketsAreTold() throws {
        #expect(try SetLocation("out/validation") == .folder("out/validation"))
        #expect(try SetLocation("https://data.example/sets/cats/") == .web("https://data.example/sets/cats"))
        #expect(try SetLocation("s3://my-bucket/sets/cats") == .s3(bucket: "my-bucket", prefix: "sets/cats"))
        #expect(try SetLocation("s3://my-bucket") == .s3(bucket: "my-bucket", prefix: ""))
        #expect(try SetLocation("s3://my-bucket/parts").appending("3").description == "s3://my-bucket/parts/3")
    }

    @Test func malformedLocationsAreRefusedNamingTheProblem() {
        for text in [
            "ftp://host/set", "s3://UPPER/set", "s3://ab/set", "s3://bucket/a b", "s3://bucket/a/../b", "s3://bucket/a//b",
            "https://user:secret@host/set", "https://host/set?x=1", "https:///set", "http://host/set\u{1}",
            "",  // an empty path: the working folder, or `/` once `/manifest.json` is appended
        ] {
            expectError(RemoteSetError.self, .invalidLocation, "\(text)") { _ = try SetLocation(text) }
        }
    }

    @Test func s3SettingsComeFromTheEnvironmentAndTheCredentialsFile() throws {
        let home = try temporaryDirectory()
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try
            "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = filesecret\n[other]\naws_access_key_id=AKOTHER\naws_secret_access_key=o\n"
            .write(to: home.appendingPathComponent(".aws/credentials"), atomically: true, encoding: .utf8)
        try "[profile other]\nregion = eu-west-3\n".write(to: home.appendingPathComponent(".aws/config"), atomically: true, encoding: .utf8)

        let fromFile = try S3Configuration.fromEnvironment([:], home: home.path)
        #expect(fromFile.signature?.accessKey == "AKFILE" && fromFile.region == "us-east-1" && !fromFile.pathStyle)
        #expect(fromFile.url(bucket: "b-1", key: "set/manifest.json") == "https://b-1.s3.us-east-1.amazonaws.com/set/manifest.json")

        let profile = try S3Configuration.fromEnvironment(["AWS_PROFILE": "other"], home: home.path)
        #expect(profile.signature?.accessKey == "AKOTHER" && profile.region == "eu-west-3")

        let environment = try S3Configuration.fromEnvironment(
            [
                "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t", "AWS_DEFAULT_REGION": "us-west-2",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9000/",
            ], home: home.path)
        #expect(environment.signature?.sessionToken == "t" && environment.region == "us-west-2" && environment.pathStyle)
        #expect(environment.url(bucket: "b-1", key: "k", query: "uploads=") == "http://127.0.0.1:9000/b-1/k?uploads=")

        expectError(RemoteSetError.self, .credentials) {
            _ = try S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AK"], home: home.path)
        }
        expectError(RemoteSetError.self, .credentials) {
            _ = try S3Configuration.fromEnvironment(["AWS_PROFILE": "missing"], home: home.path)
        }
        expectError(RemoteSetError.self, .invalidLocation) {
            _ = try S3Configuration.fromEnvironment(["AWS_ENDPOINT_URL": "ftp://x"], home: home.path)
        }
    }
}
