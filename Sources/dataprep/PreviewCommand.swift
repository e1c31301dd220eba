import ArgumentParser
import Augment
import Codecs
import Foundation
import Preparation
import Shards
import Support

/// `dataprep preview IMAGE [augment options] --count 5 --out grid.png`: one image augmented several
/// times, on one contact sheet (the tutorial's "the same image five times").
struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one image augmented several times, as a PNG contact sheet.",
        discussion: """
            Copy c is rendered exactly as `dataprep augment` renders copy c of image 0 with the same \
            options and seed. Each copy's parameters are printed, one line per copy. --save-to-dir \
            also writes every copy as its own PNG (Keras's save_to_dir). With --epoch E, the copies \
            are what `dataprep train` with the same options and seed feeds the model in epochs E, \
            E+1, ... for sample --sample of a set packed at --size: the image is made to --size as \
            pack makes it, then rendered from those pixels as train's reader renders them.
            """
    )

    @Argument(help: "A JPEG or PNG image.")
    var image: String

    @OptionGroup(title: "Augmentation")
    var augmentation: AugmentationOptions

    @Option(help: "Augmented copies to show (1-\(Self.maximumCount)).")
    var count: Int = 5

    @Option(help: "Copies per row of the sheet (default: all in one row).")
    var columns: Int?

    @Option(help: "Size of each copy WIDTHxHEIGHT (default: the image's own size).")
    var size: PixelSize?

    @OptionGroup var seed: SeedOption

    @Option(help: "The contact sheet to write (PNG).")
    var out: String?

    @Option(name: .customLong("save-to-dir"), help: "Also write each copy as DIR/<prefix>_<copy>.<format> (Keras's save_to_dir).")
    var saveToDirectory: String?

    @Option(name: .customLong("save-prefix"), help: "File-name prefix for --save-to-dir (default: the image's name).")
    var savePrefix: String?

    @Option(name: .customLong("save-format"), help: "File format for --save-to-dir: png or jpeg.")
    var saveFormat: SaveFormat = .png

    @Option(help: "Show what train feeds from this epoch on (1-\(Train.maximumEpochs)), one epoch per copy.")
    var epoch: Int?

    @Option(help: "With --epoch: the image's sample index in the training set (0-\(Self.maximumSample)).")
    var sample: Int = 0

    /// The most bytes the copies of one preview may take.
    static let maximumSheetBytes = 1 << 30

    /// The most copies one preview renders.
    static let maximumCount = 1000
    /// The largest sample index accepted.
    static let maximumSample = Int(Int32.max)

    func validate() throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw ValidationError("--count must be 1...\(Self.maximumCount), got \(count)")
        }
        try size?.check("--size")
        guard (columns ?? 1) >= 1 else { throw ValidationError("--columns must be at least 1") }
        guard out != nil || saveToDirectory != nil else { throw ValidationError("give --out, --save-to-dir or both") }
        if let epoch, !(1...Train.maximumEpochs).contains(epoch) {
            throw ValidationError("--epoch must be 1...\(Train.maximumEpochs), got \(epoch)")
        }
        guard (0...Self.maximumSample).contains(sample) else {
            throw ValidationError("--sample must be 0...\(Self.maximumSample), got \(sample)")
        }
        if epoch == nil && sample != 0 { throw ValidationError("--sample needs --epoch") }
        if let savePrefix {
            do { try PathComponent.validate(savePrefix + "_0.png", what: "--save-prefix") } catch {
                throw ValidationError("--save-prefix must make a file name: \(error.message)")
            }
            if saveToDirectory == nil { throw ValidationError("--save-prefix needs --save-to-dir") }
        }
    }

    func run() throws {
        let augmenter = ImageAugmenter(settings: augmentation.render.settings)
        let source = try augmenter.decode(fileAt: image, for: size)
        if let warning = source.warning { Diagnostics.warning("\(image): \(warning)") }
        let size = size ?? source.uprightSize
        let sheetBytes = count * size.width * size.height * 4
        guard sheetBytes <= Self.maximumSheetBytes else {
            throw AugmentError(
                .invalidOption,
                "\(count) copies of \(size) need \(sheetBytes >> 20) MiB, over the limit of "
                    + "\(Self.maximumSheetBytes >> 20) MiB: give a smaller --size or --count")
        }
        let random = try augmentation.random
        let copies =
            try epoch.map { try epochs(from: $0, size: size) }
            ?? (0..<count).map { copy in
                let parameters = random.parameters(
                    outputSize: size, random: SampleRandom(seed: seed.seed, index: 0, copy: copy),
                    convention: augmenter.settings.convention)
                print(
                    "\(copy): "
                        + zip(TransformParameters.recordedNames, parameters.recorded)
                        .map { String(format: "%@=%.4g", $0, $1) }.joined(separator: " "))
                return augmenter.render(source, parameters: parameters, size: size)
            }
        let encoder = PNGEncoder()
        if let saveToDirectory {
            try FileIO.createFolder(saveToDirectory)
            let prefix = savePrefix ?? ((image as NSString).lastPathComponent as NSString).deletingPathExtension
            let digits = max(2, String(count - 1).count)  // zero-padded, so the files sort in copy order
            let jpeg = saveFormat == .jpeg ? try JPEGEncoder() : nil
            for (copy, rendered) in copies.enumerated() {
                let name = "\(prefix)_\(String(format: "%0\(digits)d", copy)).\(saveFormat.fileExtension)"
                let bytes = try jpeg.map { try $0.encode(rendered) } ?? encoder.encode(rendered)
                try FileIO.writeAtomically(bytes, to: (saveToDirectory as NSString).appendingPathComponent(name))
            }
        }
        if let out {
            let sheet = ContactSheet.compose(copies, columns: columns ?? count)
            try FileIO.writeAtomically(try encoder.encode(sheet), to: out)
        }
    }

    /// Epochs `first ..< first + count` (1-based) of sample ``sample`` as train renders them, each
    /// epoch's parameters printed.
    private func epochs(from first: Int, size: PixelSize) throws -> [Image] {
        let settings = augmentation.render.settings
        let spec = ImageSpec(width: size.width, height: size.height, channels: 3, resize: settings.resize)
        let stored = try ImageLoader(spec: spec).load(fileAt: image)
        let augmenter = EpochAugmenter(random: try augmentation.random, settings: settings, stored: spec, output: spec, seed: seed.seed)
        return (first..<first + count).map { epoch in
            let parameters = augmenter.parameters(sample: sample, epoch: epoch - 1)
            print(
                "epoch \(epoch): "
                    + zip(TransformParameters.recordedNames, parameters.recorded)
                    .map { String(format: "%@=%.4g", $0, $1) }.joined(separator: " "))
            return Image(width: size.width, height: size.height, format: .rgb) { pixels in
                stored.pixels.withUnsafeBytes { augmenter.render($0, parameters: parameters, into: UnsafeMutableRawBufferPointer(pixels)) }
            }
        }
    }
}

/// The file format of the copies `preview --save-to-dir` writes (Keras's `save_format`).
enum SaveFormat: String, ExpressibleByArgument, CaseIterable {
    case png, jpeg

    /// `png` or `jpg`.
    var fileExtension: String { self == .png ? "png" : "jpg" }
}
