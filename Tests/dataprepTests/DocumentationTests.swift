import Codecs
import Foundation
import TestSupport
import Testing

/// Every example of README.md and docs/ that can run here runs, and prints what it shows:
/// `scripts/test_docs.py` runs the blocks (docs/development.md says how); this test makes what
/// they name. Nothing reaches the network: the walkthrough's archive is a small JPEG stand-in of
/// `cats_and_dogs_filtered` served by the tests' loopback server.
@Suite struct DocumentationTests {
    /// `cats_and_dogs_filtered.zip` as the walkthrough fetches it: `scripts/make_standin.py`'s
    /// shapes, `train` images per class from `cat.0.jpg` and `validation` ones from `cat.2000.jpg`
    /// (the real archive's names), JPEG at quality 90.
    static func standInArchive(in folder: String, train: Int = 40, validation: Int = 20) throws -> [UInt8] {
        let pngs = folder + "/standin-png"
        let made = try PythonReaderTests.runPython([
            PythonReaderTests.repository.path + "/scripts/make_standin.py", pngs, "\(train)", "\(validation)", "0",
        ])
        try #require(made.status == 0, "\(made.output)")
        let decoder = ImageDecoder(), encoder = try JPEGEncoder()
        var entries: [ArchiveBuilder.Entry] = []
        for split in ["train", "validation"] {
            for animal in ["cats", "dogs"] {
                let folder = pngs + "/\(split)/\(animal)"
                for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                    let index = Int(name.split(separator: ".")[1])!
                    let number = split == "train" ? index : index - train + 2000
                    let image = try decoder.decode(fileAt: folder + "/" + name).image
                    let jpeg = try encoder.encode(image, options: JPEGEncodeOptions(quality: 90))
                    entries.append(.file("cats_and_dogs_filtered/\(split)/\(animal)/\(animal.dropLast()).\(number).jpg", jpeg))
                }
            }
        }
        try FileManager.default.removeItem(atPath: pngs)
        return try ArchiveBuilder.archive(entries, format: .zip)
    }

    /// The files docs/commands.md's `info` example describes: a 500×375 photo stored sideways
    /// (EXIF orientation 6), a 64×48 PNG with alpha, a JPEG cut short and a GIF.
    static func writeInfoExamples(into folder: String) throws {
        let photo = try JPEGEncoder().encode(SyntheticImages.photoLike(width: 500, height: 375))
        try Data(JPEGFixtures.withEXIF(orientation: 6, in: photo)).write(to: URL(fileURLWithPath: folder + "/photo.jpg"))
        let sticker = Image(width: 64, height: 48, format: .rgba) { pixels in
            for i in 0..<(64 * 48) {
                (pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2], pixels[4 * i + 3]) = (200, 80, 40, UInt8(i % 256))
            }
        }
        try Data(try PNGEncoder().encode(sticker)).write(to: URL(fileURLWithPath: folder + "/sticker.png"))
        try Data(photo.prefix(photo.count / 2)).write(to: URL(fileURLWithPath: folder + "/cut.jpg"))
        try Data("GIF89a\u{1}\0\u{1}\0\0\0\0;".utf8).write(to: URL(fileURLWithPath: folder + "/anim.gif"))
    }

    @Test(.enabled(if: PythonReaderTests.pythonHasNumpy, "python3 lacks numpy: make deps installs python3-numpy"))
    func everyRunnableExampleOfTheREADMEAndDocsRunsAndPrintsWhatItShows() throws {
        let work = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.setFile(try Self.standInArchive(in: work), at: "/mledu-datasets/cats_and_dogs_filtered.zip")
        try Self.writeInfoExamples(into: work)
        try #require(
            FileManager.default.fileExists(atPath: PythonLoaderTests.engine),
            "\(PythonLoaderTests.engine) is missing: `make test` builds it (swift build --product DataPrepEngine)")

        let result = try PythonReaderTests.runPython(
            [PythonReaderTests.repository.path + "/scripts/test_docs.py"],
            environment: [
                "DATAPREP": dataprepExecutable().path, "DATAPREP_ENGINE": PythonLoaderTests.engine,
                "DOCS_SERVER": String(server.baseURL.dropFirst("http://".count)), "DOCS_WORK": work,
                "DATAPREP_PYTHON": PythonReaderTests.python,
            ])
        print(result.output)
        #expect(result.status == 0, "\(result.output.suffix(6000))")
    }

    @Test func theREADMEIsTheFrontPageAndLinksEveryPageOfDocs() throws {
        let root = PythonReaderTests.repository
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let sections = readme.split(separator: "\n").filter { $0.hasPrefix("## ") }
        #expect(sections == ["## Quick start", "## Walkthrough: cats vs dogs", "## Where to go next"])
        #expect(readme.utf8.count < 16_000, "the front page says what it is, how to start, and where to go next")
        #expect(readme.contains("`.build/release/dataprep`") && readme.contains("make install"), "where make demo left the binary")
        let pages = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path).filter {
            $0.hasSuffix(".md")
        }
        #expect(pages.count >= 10)
        for page in pages { #expect(readme.contains("](docs/\(page))"), "README links docs/\(page)") }
    }
}
