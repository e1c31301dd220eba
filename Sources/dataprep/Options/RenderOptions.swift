import ArgumentParser
import Augment
import Preparation

/// How transformed images are rendered: shared by augment, preview, transform and train. Options
/// with a value are nil when not given (see ``AugmentationOptions``).
struct RenderOptions: ParsableArguments {
    @Option(name: .customLong("fill"), help: "Fill for points outside the image: nearest (the default), constant, reflect or wrap.")
    var givenFill: FillMode?

    @Option(name: .customLong("cval"), help: "Fill value for --fill constant (0-255; default: 0).")
    var givenCval: Double?

    @OptionGroup var resize: ResizeOptions

    /// `--fill`, nearest when not given.
    var fill: FillMode { givenFill ?? .nearest }

    /// `--cval`, 0 when not given.
    var cval: Double { givenCval ?? 0 }

    /// The library's settings for these options.
    var settings: RenderSettings {
        RenderSettings(convention: resize.convention, fill: fill, cval: cval, interpolation: resize.interpolation)
    }

    func validate() throws {
        do { try settings.validate() } catch { throw error.usageError() }
    }
}
