public import ArgumentParser
public import Augment
import Codecs
import Fetch
import Foundation
import Shards

/// `dataprep augment SRC --out OUT --size 150x150 ...`: a split dataset → augmented training shards
/// plus resized validation shards.
struct AugmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Write augmented copies of every training image into shards, and pack the validation split beside them.",
        discussion: """
            SRC is a split dataset (what fetch or split write): SRC/train/<class>/... and optionally \
            SRC/validation/<class>/... . Every training image is decoded once, at the smallest JPEG DCT \
            scale that still covers SIZE, and each of its COPIES copies is rendered with one resample \
            (resize, EXIF orientation, rotation, shift, shear, zoom and flip folded into one map), then \
            written to OUT/train-NNNNN.dps with its transform parameters (manifest.json names them). \
            The validation split is resized without augmentation into OUT/validation. The options keep \
            the meaning of Keras's ImageDataGenerator arguments; --keras-compat reproduces its quirks \
            exactly. Copy c of image i draws its parameters from a counter-based generator \
            (Philox-4x32-10 keyed by the seed, counter (i, c, slot)), so the output bytes are the same \
            for a seed whatever the thread count. Images that cannot be decoded are skipped and listed \
            at the end (--on-error fail stops at the first).
            """
    )

    @Argument(help: "A split dataset: SRC/train/<class>/... (and SRC/validation/<class>/...).")
    var source: String

    @Option(help: "Output folder: manifest.json and train-NNNNN.dps, and validation/ beside them.")
    var out: String

    @Option(help: "Output size WIDTHxHEIGHT, e.g. 150x150.")
    var size: PixelSize

    @OptionGroup(title: "Augmentation")
    var augmentation: AugmentationOptions

    @Option(help: "Augmented copies of each training image.")
    var copies: Int = 1

    @Option(help: "Random seed: the same seed gives the same bytes.")
    var seed: UInt64 = 0

    @OptionGroup(title: "Output")
    var output: PreparationOptions

    func validate() throws {
        guard copies >= 1 else { throw ValidationError("--copies must be at least 1") }
    }

    func run() throws {
        let dataset = try DatasetDirectory(reading: source)
        guard dataset.isSplit else {
            let classes = dataset.splits[0].classes.map(\.name).joined(separator: ", ")
            throw ValidationError("""
                \(source) is not split: it holds class folders (\(classes)) but no train/validation folders. \
                Split it first with `dataprep split \(source) --out DIR`, then augment DIR.
                """)
        }
        guard let train = dataset.splits.first(where: { ["train", "training"].contains($0.name.lowercased()) }) else {
            throw ValidationError("\(source) has no train split (found \(dataset.splits.map(\.name).joined(separator: ", ")))")
        }
        let validation = dataset.splits.first { ["validation", "val", "valid"].contains($0.name.lowercased()) }
        let classNames = dataset.classNames
        let format: PixelFormat = output.channels == 1 ? .gray : .rgb
        let random = augmentation.random, settings = augmentation.render.settings

        let trainItems = items(of: train, classNames: classNames)
        let progress = ProgressLine()
        let trainWriter = try ShardWriter(
            directory: out, split: "train",
            layout: RecordLayout(height: size.height, width: size.width, channels: output.channels, hasSource: true,
                                 parameterCount: TransformParameters.recordedNames.count),
            rotation: .init(maxBytes: output.shardSize.bytes))
        let trainReport = try ShardPreparation.run(
            items: trainItems, copies: copies, writer: trainWriter, threads: output.threads, onError: output.onError,
            progress: { done in
                progress.update(String(format: "augmenting %d/%d images × %d, %.0f images/s", done, trainItems.count, copies,
                                       Double(done) / max(progress.elapsed, 1e-9)))
            },
            preparers: { AugmentingPreparer(size: size, format: format, random: random, settings: settings, seed: seed) })
        progress.finish()
        let trainManifest = try trainWriter.finish(
            classNames: classNames, parameterNames: TransformParameters.recordedNames, copies: copies,
            sources: relativePaths(trainItems, in: dataset),
            provenance: provenance(dataset, extra: ["copies": "\(copies)"] + augmentation.recorded, seed: seed))
        let trainSeconds = progress.elapsed
        print("augmented \(trainReport.written) training images × \(copies) copies of \(classNames.count) classes into "
              + "\(trainManifest.shards.count) shards in \(out) "
              + String(format: "(%.1f s, %.0f images/s, %.0f samples/s)", trainSeconds, Double(trainItems.count) / max(trainSeconds, 1e-9),
                       Double(trainItems.count * copies) / max(trainSeconds, 1e-9)))

        var warnings = trainReport.warnings, skipped = trainReport.skipped
        if let validation {
            let validationItems = items(of: validation, classNames: classNames)
            let validationOut = out + "/validation"
            let writer = try ShardWriter(
                directory: validationOut, split: "validation",
                layout: RecordLayout(height: size.height, width: size.width, channels: output.channels, hasSource: true, parameterCount: 0),
                rotation: .init(maxBytes: output.shardSize.bytes))
            let report = try ShardPreparation.run(
                items: validationItems, copies: 1, writer: writer, threads: output.threads, onError: output.onError,
                progress: { done in progress.update("packing validation \(done)/\(validationItems.count) images") },
                preparers: { ResizingPreparer(size: size, format: format) })
            progress.finish()
            let manifest = try writer.finish(classNames: classNames, sources: relativePaths(validationItems, in: dataset),
                                             provenance: provenance(dataset, extra: ["filter": "bilinear"], seed: nil))
            print("packed \(report.written) validation images into \(manifest.shards.count) shards in \(validationOut)")
            warnings += report.warnings
            skipped += report.skipped
        }
        for (path, warning) in warnings { Diagnostics.warning("\(path): \(warning)") }
        if !skipped.isEmpty {
            Diagnostics.write("skipped \(skipped.count) images that could not be decoded:\n")
            for error in skipped { Diagnostics.write("  \(error)\n") }
        }
    }

    private func items(of split: DatasetDirectory.Split, classNames: [String]) -> [PreparationItem] {
        split.classes.flatMap { folder in
            let label = classNames.firstIndex(of: folder.name)!
            return folder.images.map { PreparationItem(path: $0, label: label) }
        }
    }

    private func relativePaths(_ items: [PreparationItem], in dataset: DatasetDirectory) -> [String] {
        let root = dataset.root + "/"
        return items.map { String($0.path.dropFirst(root.count)) }
    }

    private func provenance(_ dataset: DatasetDirectory, extra: [String: String], seed: UInt64?) -> ShardManifest.Provenance {
        .init(dataset: dataset.root, tool: "dataprep \(DataPrep.version)",
              options: ["command": "augment", "size": "\(size)", "channels": "\(output.channels)"].merging(extra) { $1 },
              seed: seed)
    }
}

private func + (lhs: [String: String], rhs: [String: String]) -> [String: String] { lhs.merging(rhs) { $1 } }

// MARK: - Shared option groups

/// How transformed images are rendered: shared by augment, preview and transform.
struct RenderOptions: ParsableArguments {
    @Option(help: "Fill for points outside the image: nearest, constant, reflect or wrap.")
    var fill: FillMode = .nearest

    @Option(help: "Fill value for --fill constant (0-255).")
    var cval: Double = 0

    @Option(help: "Sampling: bilinear (area-averaged when shrinking more than 2x) or nearest.")
    var interpolation: Interpolation = .bilinear

    @Flag(name: .customLong("keras-compat"),
          help: "Reproduce Keras's ImageDataGenerator exactly, quirks included (see the README's table).")
    var kerasCompat = false

    var settings: RenderSettings {
        RenderSettings(convention: kerasCompat ? .kerasCompat : .corrected, fill: fill, cval: cval, interpolation: interpolation)
    }

    func validate() throws {
        do { try settings.validate() } catch { throw ValidationError(error.message) }
    }
}

/// The random augmentation, with Keras's ImageDataGenerator meanings: shared by augment and preview.
struct AugmentationOptions: ParsableArguments {
    @Option(name: .customLong("rotate"), help: "rotation_range: rotate by U(-DEG, DEG) degrees.")
    var rotation: Double = 0

    @Option(help: "Both shift ranges at once (see --width-shift).")
    var shift: ShiftRange?

    @Option(name: .customLong("width-shift"), help: """
        width_shift_range: 0.2 = U(-0.2, 0.2) of the width; 3.0 = U(-3, 3) pixels; 3 = whole pixels -2..2; \
        5,10 = one of the values with a random sign.
        """)
    var widthShift: ShiftRange?

    @Option(name: .customLong("height-shift"), help: "height_shift_range, as --width-shift.")
    var heightShift: ShiftRange?

    @Option(help: "shear_range: shear by U(-DEG, DEG) degrees.")
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
        RandomTransform(rotation: rotation, widthShift: widthShift ?? shift ?? .none, heightShift: heightShift ?? shift ?? .none,
                        shear: shear, zoom: zoom.map { pair in pair.high.map { pair.low...$0 } ?? RandomTransform.zoomRange(pair.low) } ?? 1...1,
                        keepAspect: keepAspect, horizontalFlip: horizontalFlip, verticalFlip: verticalFlip,
                        channelShift: channelShift, brightness: brightness.map { $0.low...($0.high ?? $0.low) })
    }

    /// The options as given, for the manifest's provenance.
    var recorded: [String: String] {
        var options = ["rotate": "\(rotation)", "shear": "\(shear)", "flip": "\(horizontalFlip)", "vertical-flip": "\(verticalFlip)",
                       "keep-aspect": "\(keepAspect)", "channel-shift": "\(channelShift)", "fill": render.fill.rawValue,
                       "cval": "\(render.cval)", "interpolation": render.interpolation.rawValue,
                       "convention": render.settings.convention.rawValue]
        options["width-shift"] = (widthShift ?? shift).map { "\($0.argument)" }
        options["height-shift"] = (heightShift ?? shift).map { "\($0.argument)" }
        options["zoom"] = zoom.map(\.description)
        options["brightness"] = brightness.map(\.description)
        return options
    }

    func validate() throws {
        if let brightness, brightness.high.map({ $0 < brightness.low }) ?? true {
            throw ValidationError("--brightness takes two values, LOW,HIGH with LOW ≤ HIGH")
        }
        if let zoom, let high = zoom.high, high < zoom.low { throw ValidationError("--zoom LOW,HIGH needs LOW ≤ HIGH") }
        if let zoom, zoom.high == nil, zoom.low >= 1 { throw ValidationError("a single --zoom value must be below 1 (it means [1-Z, 1+Z])") }
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
