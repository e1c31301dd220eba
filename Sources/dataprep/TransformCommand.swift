import ArgumentParser
import Augment
import Codecs
import Foundation
import Support

/// `dataprep transform IMAGE --theta 30 --tx 5 ... --out out.png`: one explicit parameter set, like
/// Keras's `apply_transform`, for debugging and exact comparisons with Keras.
struct Transform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply one explicit transform to an image (like Keras's apply_transform) and write a PNG.",
        discussion: """
            The parameters have the meaning of the keys of Keras's apply_transform dictionary: theta \
            (degrees, counter-clockwise), tx and ty (pixels; positive tx samples further right, so \
            the content moves left), shear (degrees), zx and zy (> 1 zooms out). Under --keras-compat \
            the image is resized with nearest neighbour first (when --size differs from its size) and \
            Keras's quirks apply: the result matches apply_transform on the same array.
            """
    )

    @Argument(help: "A JPEG or PNG image.")
    var image: String

    @Option(parsing: .unconditional, help: "Rotation in degrees, counter-clockwise.")
    var theta: Double = 0

    @Option(parsing: .unconditional, help: "Shift along x in pixels.")
    var tx: Double = 0

    @Option(parsing: .unconditional, help: "Shift along y in pixels.")
    var ty: Double = 0

    @Option(parsing: .unconditional, help: "Shear angle in degrees.")
    var shear: Double = 0

    @Option(help: "Zoom along x (> 1 samples a larger area: the content shrinks).")
    var zx: Double = 1

    @Option(help: "Zoom along y.")
    var zy: Double = 1

    @Flag(name: .customLong("flip-h"), help: "Mirror left-right (after the affine).")
    var flipHorizontal = false

    @Flag(name: .customLong("flip-v"), help: "Mirror top-bottom.")
    var flipVertical = false

    @Option(help: "Multiply every channel by this factor.")
    var brightness: Double?

    @Option(name: .customLong("channel-shift"), parsing: .unconditional, help: "Add this to every channel (0-255 scale).")
    var channelShift: Double?

    @OptionGroup var render: RenderOptions

    @Option(help: "Output size WIDTHxHEIGHT (default: the image's own size).")
    var size: PixelSize?

    @Option(help: "The PNG to write.")
    var out: String

    /// The transform the options describe.
    var parameters: TransformParameters {
        TransformParameters(
            theta: theta, tx: tx, ty: ty, shear: shear, zx: zx, zy: zy, flipHorizontal: flipHorizontal,
            flipVertical: flipVertical, channelShift: channelShift, brightness: brightness)
    }

    func validate() throws {
        try size?.check("--size")
        do { try parameters.validate() } catch { throw error.usageError() }
    }

    func run() throws {
        let augmenter = ImageAugmenter(settings: render.settings)
        let source = try augmenter.decode(fileAt: image, for: size)
        if let warning = source.warning { Diagnostics.warning("\(image): \(warning)") }
        let result = augmenter.render(source, parameters: parameters, size: size ?? source.uprightSize)
        try FileIO.writeAtomically(try PNGEncoder().encode(result), to: out)
        print("wrote \(out) (\(result.width)x\(result.height))")
    }
}
