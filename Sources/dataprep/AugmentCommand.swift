public import ArgumentParser
public import Augment
import Codecs
import Foundation
import Preparation
import Shards
import Support

/// `dataprep augment SRC --out OUT --size 150x150 ...`: a split dataset → augmented training shards
/// plus resized validation shards.
struct AugmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Write augmented copies of every training image into shards, and pack the validation split beside them.",
        discussion: """
            SRC is a split dataset (what fetch or split write): SRC/train/<class>/... and optionally \
            SRC/validation/<class>/... (split folders may be symbolic links). Labels follow the \
            sorted class names, or the order of SRC/classes.txt (one class per line, as fetch \
            writes). A set of another spec, classes or split already in OUT is not replaced \
            without --overwrite. Every training image is decoded once, at the smallest JPEG DCT \
            scale that still covers SIZE, and each of its COPIES copies is rendered with one resample \
            (resize, EXIF orientation, rotation, shift, shear, zoom and flip folded into one map), then \
            written to OUT/train-NNNNN.dps with its transform parameters (manifest.json names them). \
            The validation split is resized without augmentation into OUT/validation, with the resize \
            the training images get (bilinear, nearest, or Keras's load_img under --keras-compat); both \
            manifests record that image spec. The options keep the meaning of Keras's \
            ImageDataGenerator arguments; --keras-compat reproduces its quirks exactly. Copy c of \
            image i draws its parameters from a counter-based generator (Philox-4x32-10 keyed by the \
            seed, counter (i, c, slot)), so the output bytes are the same for a seed whatever the \
            thread count. Images that cannot be decoded are skipped and listed at the end \
            (--on-error fail stops at the first).
            """
    )

    @Argument(help: "A split dataset: SRC/train/<class>/... (and SRC/validation/<class>/...).")
    var source: String

    @OptionGroup(title: "Image")
    var image: ImageSizeOptions

    @OptionGroup(title: "Augmentation")
    var augmentation: AugmentationOptions

    @Option(help: "Augmented copies of each training image (1-\(Self.maximumCopies)).")
    var copies: Int = 1

    @OptionGroup var seed: SeedOption

    @OptionGroup(title: "Output")
    var output: ShardOutputOptions

    @OptionGroup(title: "Output")
    var replacing: OverwriteOption

    /// The most copies accepted.
    static let maximumCopies = 1000

    func validate() throws {
        guard (1...Self.maximumCopies).contains(copies) else {
            throw ValidationError("--copies must be 1...\(Self.maximumCopies), got \(copies)")
        }
    }

    func run() throws {
        let dataset = try DatasetDirectory(reading: source)
        guard dataset.isSplit else {
            let classes = dataset.splits[0].classes.map(\.name).joined(separator: ", ")
            var base = source
            while base.count > 1, base.hasSuffix("/") { base.removeLast() }
            if [".", "..", "/"].contains((base as NSString).lastPathComponent) { base = dataset.root }
            let split = ShellWords.command(["dataprep", "split", source, "--val", "0.2", "--out", base + "-split"])
            throw ValidationError(
                """
                \(source) is not split: it holds class folders (\(classes)) but no train/validation folders. \
                Split it first with `\(split)`, then augment that folder.
                """)
        }
        guard let train = dataset.splits.first(where: { ["train", "training"].contains($0.name.lowercased()) }) else {
            throw ValidationError("\(source) has no train split (found \(dataset.splits.map(\.name).joined(separator: ", ")))")
        }
        let validation = dataset.splits.first { ["validation", "val", "valid"].contains($0.name.lowercased()) }
        let classNames = dataset.classNames
        let settings = augmentation.render.settings, random = augmentation.random
        let spec = image.spec(settings.resize)
        let format: PixelFormat = image.channels == 1 ? .gray : .rgb
        try output.checkSeparate(from: [dataset.root])
        let lock = try output.lock()
        defer { lock.release() }
        try replacing.checkReplacing(
            in: output.out, split: "train", spec: spec, classNames: classNames, parameterNames: TransformParameters.recordedNames)
        if validation != nil {
            try replacing.checkReplacing(
                in: output.out + "/validation", split: "validation", spec: spec, classNames: classNames, parameterNames: [])
        }
        let options = ["size": "\(image.size)", "channels": "\(image.channels)", "resize": spec.resize.rawValue]

        let progress = ProgressLine()
        let trained = try SplitPreparation.prepare(
            train, of: dataset, classNames: classNames, as: "train", spec: spec, copies: copies,
            parameterNames: TransformParameters.recordedNames, into: output.out, settings: try output.settings,
            provenance: PreparationSummary.provenance(
                "augment", dataset,
                options: options.merging(augmentation.recorded) { $1 }
                    .merging(["copies": "\(copies)"]) { $1 }, seed: seed.seed),
            progress: PreparationSummary.progress(progress, "augmenting (×\(copies))"),
            preparers: { AugmentingPreparer(size: image.size, format: format, random: random, settings: settings, seed: seed.seed) })
        progress.finish()
        let written = trained.report.written
        print(
            "augmented \(written) training images × \(copies) copies of \(classNames.count) classes into "
                + "\(trained.manifest.shards.count) shards in \(output.out) "
                + String(
                    format: "(%.1f s, %.0f images/s, %.0f samples/s)", trained.seconds, Double(written) / max(trained.seconds, 1e-9),
                    Double(written * copies) / max(trained.seconds, 1e-9)))

        var reports = [trained.report]
        if let validation {
            let validationOut = output.out + "/validation"
            let packed = try SplitPreparation.prepare(
                validation, of: dataset, classNames: classNames, as: "validation", spec: spec, into: validationOut,
                settings: try output.settings, provenance: PreparationSummary.provenance("augment", dataset, options: options, seed: nil),
                progress: PreparationSummary.progress(progress, "packing validation"),
                preparers: { ResizingPreparer(spec: spec) })
            progress.finish()
            print("packed \(packed.report.written) validation images into \(packed.manifest.shards.count) shards in \(validationOut)")
            reports.append(packed.report)
        }
        PreparationSummary.reportProblems(reports)
    }
}

// MARK: - Shared option groups

/// How images are resized to their spec: shared by pack and (through ``RenderOptions``) augment,
/// preview and transform.
struct ResizeOptions: ParsableArguments {
    @Option(help: "Sampling: bilinear (area-averaged when shrinking more than 2x) or nearest.")
    var interpolation: Interpolation = .bilinear

    @Flag(
        name: .customLong("keras-compat"),
        help: "Reproduce Keras exactly, quirks included (load_img's nearest resize; see the README's table).")
    var kerasCompat = false

    /// The spec's resize for these options.
    var resize: ImageSpec.Resize { RenderSettings(convention: convention, interpolation: interpolation).resize }

    var convention: AugmentConvention { kerasCompat ? .kerasCompat : .corrected }

    func validate() throws {
        if kerasCompat && interpolation == .nearest {
            throw ValidationError(
                "--keras-compat samples bilinearly (SciPy order 1) and resizes as Keras does; "
                    + "--interpolation nearest is not available with it")
        }
    }
}

/// How transformed images are rendered: shared by augment, preview and transform.
struct RenderOptions: ParsableArguments {
    @Option(help: "Fill for points outside the image: nearest, constant, reflect or wrap.")
    var fill: FillMode = .nearest

    @Option(help: "Fill value for --fill constant (0-255).")
    var cval: Double = 0

    @OptionGroup var resize: ResizeOptions

    var settings: RenderSettings {
        RenderSettings(convention: resize.convention, fill: fill, cval: cval, interpolation: resize.interpolation)
    }

    func validate() throws {
        guard cval.isFinite, (0...255).contains(cval) else { throw ValidationError("--cval must be 0...255, got \(cval)") }
        do { try settings.validate() } catch { throw ValidationError(error.message) }
    }
}

/// The random augmentation, with Keras's ImageDataGenerator meanings: shared by augment and preview.
struct AugmentationOptions: ParsableArguments {
    @Option(name: .customLong("rotate"), help: "rotation_range: rotate by U(-DEG, DEG) degrees.")
    var rotation: Double = 0

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
        help:
            "shear_range in degrees, as Keras: shear by U(-DEG, DEG) degrees (0-89). Keras's shear_range=0.2 is 0.2 degrees, a tiny shear.")
    var shear: Double = 0

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

    @Option(name: .customLong("channel-shift"), help: "channel_shift_range: add U(-C, C) to every channel (0-255 scale).")
    var channelShift: Double = 0

    @OptionGroup var render: RenderOptions

    var random: RandomTransform {
        RandomTransform(
            rotation: rotation, widthShift: widthShift ?? shift ?? .none, heightShift: heightShift ?? shift ?? .none,
            shear: shear, zoom: zoom.map { pair in pair.high.map { pair.low...$0 } ?? RandomTransform.zoomRange(pair.low) } ?? 1...1,
            keepAspect: keepAspect, horizontalFlip: horizontalFlip, verticalFlip: verticalFlip,
            channelShift: channelShift, brightness: brightness.map { $0.low...($0.high ?? $0.low) })
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
        // The raw numbers first: ranges are only built from values that make valid ranges.
        let bounds = TransformParameters.self
        guard rotation.isFinite, (0...360).contains(rotation) else {
            throw ValidationError("--rotate must be 0...360 degrees, got \(rotation)")
        }
        guard shear.isFinite, (0...bounds.maximumShear).contains(shear) else {
            throw ValidationError("--shear must be 0...\(bounds.maximumShear) degrees (Keras's shear_range is in degrees), got \(shear)")
        }
        guard channelShift.isFinite, (0...bounds.maximumChannelShift).contains(channelShift) else {
            throw ValidationError("--channel-shift must be 0...255, got \(channelShift)")
        }
        if let brightness {
            guard let high = brightness.high, bounds.brightnessBounds.contains(brightness.low), bounds.brightnessBounds.contains(high),
                brightness.low <= high
            else {
                throw ValidationError(
                    "--brightness takes LOW,HIGH with 0 ≤ LOW ≤ HIGH ≤ \(bounds.brightnessBounds.upperBound), got \(brightness)")
            }
        }
        if let zoom {
            if let high = zoom.high {
                guard bounds.zoomBounds.contains(zoom.low), bounds.zoomBounds.contains(high), zoom.low <= high else {
                    throw ValidationError(
                        "--zoom LOW,HIGH needs \(bounds.zoomBounds.lowerBound) ≤ LOW ≤ HIGH ≤ \(bounds.zoomBounds.upperBound), got \(zoom)")
                }
            } else {
                guard zoom.low.isFinite, (0...0.99).contains(zoom.low) else {
                    throw ValidationError("a single --zoom value Z must be 0...0.99 (it means [1-Z, 1+Z]), got \(zoom)")
                }
            }
        }
        for (name, range) in [("--shift", shift), ("--width-shift", widthShift), ("--height-shift", heightShift)] {
            guard let range else { continue }
            do { try range.validate(name) } catch { throw ValidationError(error.message) }
        }
        do { try random.validate() } catch { throw ValidationError(error.message) }
    }
}

// MARK: - Argument types

/// One number or two separated by a comma (`0.2`, `0.8,1.2`).
struct ValuePair: ExpressibleByArgument, CustomStringConvertible {
    var low: Double
    var high: Double?

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let first = parts[0], parts.allSatisfy({ $0 != nil }) else { return nil }
        low = first
        high = parts.count == 2 ? parts[1] : nil
    }

    var description: String { high.map { "\(low),\($0)" } ?? "\(low)" }
}

extension ShiftRange: ExpressibleByArgument {
    /// `0.2` (a float: uniform), `3` (an integer: whole pixels, Keras's int form) or `5,10` (a list).
    public init?(argument: String) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count > 1 {
            let values = parts.compactMap(Double.init)
            guard values.count == parts.count else { return nil }
            self = .choices(values)
        } else if let n = Int(argument) {
            self = .wholePixels(n)
        } else if let w = Double(argument) {
            self = .uniform(w)
        } else {
            return nil
        }
    }

    /// The form it was given in.
    var argument: String {
        switch self {
        case .uniform(let w): "\(w)"
        case .choices(let values): values.map { "\($0)" }.joined(separator: ",")
        case .wholePixels(let n): "\(n)"
        }
    }
}

extension FillMode: ExpressibleByArgument {}
extension Interpolation: ExpressibleByArgument {}
