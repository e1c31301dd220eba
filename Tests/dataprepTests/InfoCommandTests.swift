import Codecs
import Foundation
import TestSupport
import Testing

@Suite struct InfoCommandTests {
    @Test func goodFilesArePrintedAndBadOnesNamedWithTheReason() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpeg = JPEGFixtures.withEXIF(
            orientation: 6, in: try JPEGEncoder().encode(SyntheticImages.photoLike(width: 64, height: 48)))
        let png = try PNGEncoder().encode(SyntheticImages.ramp(width: 10, height: 7, format: .rgba))
        let files: [(String, [UInt8])] = [
            ("photo.jpg", jpeg),
            ("cut.jpg", Array(jpeg.prefix(jpeg.count / 2))),
            ("icon.png", png),
            ("anim.gif", Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]),
        ]
        for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        let paths = files.map { dir.appendingPathComponent($0.0).path } + [dir.appendingPathComponent("missing.png").path]

        let result = try runDataprep(["info"] + paths)

        #expect(result.status == 1)
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == 3)  // header, photo.jpg, icon.png
        #expect(rows[0] == ["file", "format", "width", "height", "channels", "orientation", "color"])
        #expect(rows[1] == [paths[0], "JPEG", "64", "48", "3", "6", "(rotate", "90°", "CW)", "YCbCr", "4:2:0"])
        #expect(rows[2] == [paths[2], "PNG", "10", "7", "4", "1", "(upright)", "RGBA"])
        #expect(result.stderr.contains("error: \(paths[1]): truncated: "))
        #expect(result.stderr.contains("error: \(paths[3]): unsupportedFormat: GIF images are not supported"))
        #expect(result.stderr.contains("error: \(paths[4]): readFailed: cannot open: No such file or directory"))
        #expect(result.stderr.contains("3 of 5 files could not be decoded"))
    }

    @Test func allGoodFilesExitZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gray.png").path
        try Data(try PNGEncoder().encode(SyntheticImages.ramp(width: 3, height: 2, format: .gray))).write(to: URL(fileURLWithPath: path))
        let result = try runDataprep(["info", path])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("PNG"))
    }

    @Test func versionAndUsage() throws {
        #expect(try runDataprep(["--version"]).stdout == "0.1.0\n")
        let noFiles = try runDataprep(["info"])
        #expect(noFiles.status == 64)  // usage error
        #expect(noFiles.stderr.contains("Missing expected argument '<files> ...'"))
    }
}
