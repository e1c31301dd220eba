import ArgumentParser
import Codecs
import Foundation

/// `dataprep info FILE...`: what each image is, and which ones cannot be decoded.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the format, size, channels and EXIF orientation of images.",
        discussion: """
            Each file is decoded completely, so a damaged file is reported even when its header is \
            intact. Width and height are as stored; an orientation of 5 to 8 means the upright \
            image has them exchanged. A file that cannot be decoded is reported on stderr with the \
            reason, the others are still printed, and the exit status is 1.
            """
    )

    @Argument(help: "Image files. The format is recognised from the bytes, never from the name.")
    var files: [String]

    func run() throws {
        let decoder = ImageDecoder()
        let nameWidth = max(4, files.map(\.count).max() ?? 0)
        func row(_ columns: [String]) -> String {
            func left(_ text: String, _ width: Int) -> String {
                text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
            }
            func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
            return [
                left(columns[0], nameWidth), left(columns[1], 6), right(columns[2], 6), right(columns[3], 6),
                right(columns[4], 8), left(columns[5], 21), columns[6],
            ].joined(separator: "  ")
        }
        print(row(["file", "format", "width", "height", "channels", "orientation", "color"]))
        fflush(nil)

        var failed = 0
        for path in files {
            do {
                let decoded = try decoder.decode(fileAt: path)
                let info = decoded.info
                print(
                    row([
                        path, info.format.description, "\(info.width)", "\(info.height)", "\(info.channels)",
                        info.orientation.description,
                        info.bitDepth == 8 ? info.colorModel : "\(info.colorModel), \(info.bitDepth)-bit",
                    ]))
                fflush(nil)  // keep rows and diagnostics in order when both go to one pipe
                if let warning = decoded.warning { Diagnostics.warning("\(path): \(warning)") }
            } catch let error as CodecError {
                Diagnostics.error(error.description)
                failed += 1
            }
        }
        if failed > 0 {
            Diagnostics.error("\(failed) of \(files.count) files could not be decoded")
            throw ExitCode.failure
        }
    }
}
