import ArgumentParser
import Codecs
import Shards

/// `--size` and `--channels`: the image a shard set holds, `WIDTHxHEIGHT` and 1 or 3.
struct ImageSizeOptions: ParsableArguments {
    @Option(help: "Image size WIDTHxHEIGHT, e.g. 150x150.")
    var size: PixelSize

    @Option(help: "Channels: 3 (RGB) or 1 (grayscale).")
    var channels: Int = 3

    func validate() throws {
        try size.check("--size")
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
    }

    /// The spec of images of this size and channels, resized by `resize`.
    func spec(_ resize: ImageSpec.Resize) -> ImageSpec {
        ImageSpec(width: size.width, height: size.height, channels: channels, resize: resize)
    }
}
