import ArgumentParser
import Augment
import Codecs
import Foundation

/// `dataprep preview IMAGE [augment options] --count 5 --out grid.png`: one image augmented several
/// times, on one contact sheet (the tutorial's "the same image five times").
struct Preview: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one image augmented several times, as a PNG contact sheet.",
        discussion: """
            Copy c is rendered exactly as `dataprep augment` renders copy c of image 0 with the same \
            options and seed. Each copy's parameters are printed, one line per copy. --save-to-dir \
            also writes every copy as its own PNG (Keras's save_to_dir).
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

    @Option(name: .customLong("save-to-dir"), help: "Also write each copy as DIR/<name>_<copy>.png.")
    var saveToDirectory: String?

    /// The most bytes the copies of one preview may take.
    static let maximumSheetBytes = 1 << 30

    /// The most copies one preview renders.
    static let maximumCount = 1000

    func validate() throws {
        guard (1...Self.maximumCount).contains(count) else {
            throw ValidationError("--count must be 1...\(Self.maximumCount), got \(count)")
        }
        try size?.check("--size")
        guard (columns ?? 1) >= 1 else { throw ValidationError("--columns must be at least 1") }
        guard out != nil || saveToDirectory != nil else { throw ValidationError("give --out, --save-to-dir or both") }
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
        let random = augmentation.random
        let copies = (0..<count).map { copy in
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
            try FileManager.default.createDirectory(atPath: saveToDirectory, withIntermediateDirectories: true)
            let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
            for (copy, rendered) in copies.enumerated() {
                try Data(try encoder.encode(rendered)).write(to: URL(fileURLWithPath: "\(saveToDirectory)/\(stem)_\(copy).png"))
            }
        }
        if let out {
            let sheet = ContactSheet.compose(copies, columns: columns ?? count)
            try Data(try encoder.encode(sheet)).write(to: URL(fileURLWithPath: out))
        }
    }
}
