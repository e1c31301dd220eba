import Foundation
import TestSupport
import Testing

@testable import dataprep

/// The fast half of what holds `make dist`'s tarball (the slow half, `make test-dist`, builds it
/// and runs it with nothing of the toolchain): the Debian runtime packages it lists cover every
/// library the binary links that is not the Swift toolchain's, and packaging/Dockerfile unpacks
/// the tarball of this version.
@Suite struct DistributionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Debian package that installed `path` (tried as given, then with symbolic links resolved).
    static func package(of path: String) throws -> String? {
        for candidate in [path, URL(fileURLWithPath: path).resolvingSymlinksInPath().path] {
            let owner = try runProgram("/usr/bin/dpkg", ["-S", candidate]).output
            if let line = owner.split(separator: "\n").first, let name = line.split(separator: ":").first { return String(name) }
        }
        return nil
    }

    @Test func theRuntimePackagesCoverEveryDebianLibraryTheBinaryLinks() throws {
        let listed = Set(
            try String(contentsOf: Self.root.appendingPathComponent("packaging/runtime-packages.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init))
        let binary = dataprepExecutable().path
        let needed = try runProgram("/usr/bin/readelf", ["-d", binary]).output.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        let resolved = Dictionary(
            try runProgram("/usr/bin/ldd", [binary]).output.split(separator: "\n").compactMap { line -> (String, String)? in
                let fields = line.split(separator: " ").map(String.init).filter { !$0.isEmpty && $0 != "\t" }
                guard fields.count >= 3, fields[1] == "=>" else { return nil }
                return (fields[0].trimmingCharacters(in: .whitespaces), fields[2])
            }, uniquingKeysWith: { first, _ in first })
        let toolchain = ["libswift", "libFoundation", "lib_FoundationICU", "libdispatch", "libBlocksRuntime"]
        var checked = 0
        for library in needed where !toolchain.contains(where: library.hasPrefix) {
            let path = try #require(resolved[library], "ldd does not resolve \(library)")
            let package = try #require(try Self.package(of: path), "no Debian package holds \(path)")
            #expect(listed.contains(package), "\(library) comes from \(package), which packaging/runtime-packages.txt does not list")
            checked += 1
        }
        #expect(checked >= 5, "the binary links libturbojpeg, libpng, libarchive, libcurl and libdnnl at least: \(needed)")
    }

    @Test func theDockerfileUnpacksThisVersionsTarballAndInstallsItsList() throws {
        let dockerfile = try String(contentsOf: Self.root.appendingPathComponent("packaging/Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("FROM debian:bookworm-slim"))
        #expect(dockerfile.contains("ARG DIST=dataprep-\(DataPrep.version)-linux-x86_64"))
        #expect(dockerfile.contains("ADD dist/${DIST}.tar.gz /opt/"))
        #expect(dockerfile.contains("/opt/${DIST}/share/dataprep/runtime-packages.txt"))
    }
}
