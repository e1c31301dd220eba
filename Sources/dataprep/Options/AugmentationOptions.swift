import ArgumentParser
import Augment

/// The random augmentation, with Keras's ImageDataGenerator meanings: shared by augment, preview
/// and train. The values are checked by the library (``RandomTransform/validate()``), whose
/// refusal becomes the usage error naming the flag. Options with a value are nil when not given
/// (their defaults are the effective values below), so that `train --resume` can tell an option
/// given again from one left out.
struct AugmentationOptions: ParsableArguments {
    @Option(name: .customLong("rotate"), help: "rotation_range: rotate by U(-DEG, DEG) degrees (default: 0).")
    var givenRotation: Double?

    @Option(help: "Both shift ranges at once (see --width-shift).")
    var shift: ShiftRange?

    @Option(
        name: .customLong("width-shift"),
        help: """
            width_shift_range: 0.2 = U(-0.2, 0.2) of the width; 3.0 = U(-3, 3) pixels; 3 = whole pixels -2..2; \
            5,10 = one of the values with a random sign.
            """)
    var widthShift: ShiftRange?

    @Option(name: .customLong("height-shift"), help: "height_shift_range, as --width-shift.")
    var heightShift: ShiftRange?

    @Option(
        name: .customLong("shear"),
        help: """
            shear_range in degrees, as Keras: shear by U(-DEG, DEG) degrees (0-89; default: 0). Keras's \
            shear_range=0.2 is 0.2 degrees, a tiny shear.
            """)
    var givenShear: Double?

    @Option(help: "zoom_range: Z means [1-Z, 1+Z]; LOW,HIGH a range. x and y are drawn independently.")
    var zoom: ValuePair?

    @Flag(name: .customLong("keep-aspect"), help: "Draw one zoom factor for both axes (keeps the aspect ratio).")
    var keepAspect = false

    @Flag(name: .customLong("flip"), help: "horizontal_flip: mirror left-right with probability 1/2.")
    var horizontalFlip = false

    @Flag(name: .customLong("vertical-flip"), help: "vertical_flip: mirror top-bottom with probability 1/2.")
    var verticalFlip = false

    @Option(help: "brightness_range: LOW,HIGH, multiply by U(LOW, HIGH).")
    var brightness: ValuePair?

    @Option(name: .customLong("channel-shift"), help: "channel_shift_range: add U(-C, C) to every channel (0-255 scale; default: 0).")
    var givenChannelShift: Double?

    @OptionGroup var render: RenderOptions

    /// `--rotate`, 0 when not given.
    var rotation: Double { givenRotation ?? 0 }

    /// `--shear`, 0 when not given.
    var shear: Double { givenShear ?? 0 }

    /// `--channel-shift`, 0 when not given.
    var channelShift: Double { givenChannelShift ?? 0 }

    /// The transform the options describe, built and checked by the library.
    /// - Throws: ``AugmentError`` `invalidOption` naming the parameter at fault.
    var random: RandomTransform {
        get throws(AugmentError) {
            var zoomRange: ClosedRange<Double> = 1...1
            if let zoom, let high = zoom.high {
                zoomRange = try RandomTransform.range(zoom.low, high, parameter: "zoom")
            } else if let zoom {
                zoomRange = try RandomTransform.zoomRange(zoom.low)
            }
            var brightnessRange: ClosedRange<Double>?
            if let brightness {
                brightnessRange = try RandomTransform.range(brightness.low, brightness.high ?? brightness.low, parameter: "brightness")
            }
            let random = RandomTransform(
                rotation: rotation, widthShift: widthShift ?? shift ?? .none, heightShift: heightShift ?? shift ?? .none,
                shear: shear, zoom: zoomRange, keepAspect: keepAspect, horizontalFlip: horizontalFlip, verticalFlip: verticalFlip,
                channelShift: channelShift, brightness: brightnessRange)
            try random.validate()
            return random
        }
    }

    /// The options as given, for the manifest's provenance.
    var recorded: [String: String] {
        var options = [
            "rotate": "\(rotation)", "shear": "\(shear)", "flip": "\(horizontalFlip)", "vertical-flip": "\(verticalFlip)",
            "keep-aspect": "\(keepAspect)", "channel-shift": "\(channelShift)", "fill": render.fill.rawValue,
            "cval": "\(render.cval)", "interpolation": render.resize.interpolation.rawValue,
            "convention": render.settings.convention.rawValue,
        ]
        options["width-shift"] = (widthShift ?? shift).map { "\($0.argument)" }
        options["height-shift"] = (heightShift ?? shift).map { "\($0.argument)" }
        options["zoom"] = zoom.map(\.description)
        options["brightness"] = brightness.map(\.description)
        return options
    }

    func validate() throws {
        if let brightness, brightness.high == nil { throw ValidationError("--brightness takes LOW,HIGH, got \(brightness)") }
        do { _ = try random } catch {
            // A shift given by --shift alone is reported under the flag the user wrote.
            throw error.usageError([
                "widthShift": widthShift == nil ? "--shift" : "--width-shift",
                "heightShift": heightShift == nil ? "--shift" : "--height-shift",
            ])
        }
    }
}
