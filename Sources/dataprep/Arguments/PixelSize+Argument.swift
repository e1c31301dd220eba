public import ArgumentParser
public import Codecs
import Shards

extension PixelSize: ExpressibleByArgument {
    /// `WIDTHxHEIGHT`, e.g. `150x150`: the one size syntax of every command.
    public init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let width = parts[0], let height = parts[1], width > 0, height > 0 else { return nil }
        self.init(width: width, height: height)
    }

    /// Throws a usage error naming `option` when the library refuses the size as an image spec's
    /// (``ImageSpec/validate()``: a side over ``ImageSpec/maximumSide`` or the area over
    /// ``ImageSpec/maximumPixels``).
    func check(_ option: String) throws {
        do { try ImageSpec(width: width, height: height, channels: 3).validate() } catch {
            throw ValidationError("\(option) \(self): \(error.message)")
        }
    }
}
