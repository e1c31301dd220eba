import ArgumentParser
import Augment
import Preparation
import Shards

/// How images are resized to their spec: shared by pack and (through ``RenderOptions``) augment,
/// preview, transform and train. `--interpolation` is nil when not given (see
/// ``AugmentationOptions``).
struct ResizeOptions: ParsableArguments {
    @Option(
        name: .customLong("interpolation"),
        help: "Sampling: bilinear (the default; area-averaged when shrinking more than 2x) or nearest.")
    var givenInterpolation: Interpolation?

    @Flag(
        name: .customLong("keras-compat"),
        help: "Reproduce Keras exactly, quirks included (load_img's nearest resize; see docs/keras.md).")
    var kerasCompat = false

    /// `--interpolation`, bilinear when not given.
    var interpolation: Interpolation { givenInterpolation ?? .bilinear }

    /// The library's settings for these options (the other render settings at their defaults).
    var settings: RenderSettings { RenderSettings(convention: convention, interpolation: interpolation) }

    /// The spec's resize for these options.
    var resize: ImageSpec.Resize { settings.resize }

    /// The convention `--keras-compat` chooses.
    var convention: AugmentConvention { kerasCompat ? .kerasCompat : .corrected }

    func validate() throws {
        do { try settings.validate() } catch { throw error.usageError() }
    }
}
