import ArgumentParser
import Augment
import Preparation

/// How transformed images are rendered: shared by augment, preview, transform and train.
struct RenderOptions: ParsableArguments {
    @Option(help: "Fill for points outside the image: nearest, constant, reflect or wrap.")
    var fill: FillMode = .nearest

    @Option(help: "Fill value for --fill constant (0-255).")
    var cval: Double = 0

    @OptionGroup var resize: ResizeOptions

    /// The library's settings for these options.
    var settings: RenderSettings {
        RenderSettings(convention: resize.convention, fill: fill, cval: cval, interpolation: resize.interpolation)
    }

    func validate() throws {
        do { try settings.validate() } catch { throw error.usageError() }
    }
}
