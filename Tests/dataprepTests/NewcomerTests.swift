import Codecs
import Foundation
import TestSupport
import Testing

/// Newcomer friction: preview's Keras-style save options and the progress bar.
@Suite struct NewcomerTests {
    @Test func previewSavesEachCopyWithPrefixFormatAndSortableNumbers() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("cat.jpg").path
        try Data(try JPEGEncoder().encode(SyntheticImages.photoLike(width: 40, height: 30))).write(to: URL(fileURLWithPath: image))
        let saved = dir.appendingPathComponent("saved").path
        let result = try runDataprep([
            "preview", image, "--rotate", "30", "--flip", "--count", "12", "--save-to-dir", saved, "--save-prefix", "aug",
            "--save-format", "jpeg",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: saved).sorted()
        #expect(names == (0..<12).map { String(format: "aug_%02d.jpg", $0) })
        let decoded = try ImageDecoder().decode(fileAt: saved + "/aug_11.jpg")
        #expect(decoded.info.format == .jpeg && decoded.image.width == 40 && decoded.image.height == 30)

        let png = try runDataprep(["preview", image, "--count", "3", "--save-to-dir", saved + "-png"])
        #expect(png.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: saved + "-png").sorted() == ["cat_00.png", "cat_01.png", "cat_02.png"])
        let bad = try runDataprep(["preview", image, "--save-to-dir", saved, "--save-prefix", "../up"])
        #expect(bad.status == 64)
    }

    @Test func progressIsABarOnATerminalAndAbsentOtherwise() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 20, size: PixelSize(width: 32, height: 24))
        let piped = try runDataprep(["pack", data.path, "--size", "16x12", "--out", dir.appendingPathComponent("a").path])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains("ETA") && !piped.stderr.contains("["), "\(piped.stderr)")

        // `script` runs the command on a pseudo-terminal and copies what it draws to its stdout.
        let command = [dataprepExecutable().path, "pack", data.path, "--size", "16x12", "--out", dir.appendingPathComponent("b").path]
            .map { "'\($0)'" }.joined(separator: " ")
        let (status, drawn) = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(status == 0)
        #expect(drawn.contains("packing [") && drawn.contains("40/40 images") && drawn.contains("images/s"), "\(drawn)")
    }
}
