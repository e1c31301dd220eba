import ArgumentParser
import Augment
import Preparation
import Shards

/// How images are resized to their spec: shared by pack and (through ``RenderOptions``) augment,
/// preview, transform and train.
struct ResizeOptions: ParsableArguments {
    @Option(help: "Sampling: bilinear (area-averaged when shrinking more than 2x) or nearest.")
    var interpolation: Interpolation = .bilinear

    @Flag(
        name: .customLong("keras-compat"),
        help: "Reproduce Keras exactly, quirks included (load_img's nearest resize; see the README's table).")
    var kerasCompat = false

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
