import ArgumentParser
import Augment
import Codecs
import Datasets
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
        if classNames.count == 1 {
            Diagnostics.warning(
                "\(source) holds one class (\(classNames[0])): a classifier needs at least two, and train refuses a set of one class")
        }
        let settings = augmentation.render.settings, random = try augmentation.random
        let spec = image.spec(settings.resize)
        let format: PixelFormat = image.channels == 1 ? .gray : .rgb
        try output.checkSeparate(from: [dataset.root])
        // OUT/validation is written too: a concurrent pack into it must fail, not interleave.
        let locks = try output.locks(subfolders: validation == nil ? [] : ["validation"])
        defer { for lock in locks.reversed() { lock.release() } }
        try replacing.checkReplacing(
            in: output.folder, split: "train", spec: spec, classNames: classNames, parameterNames: TransformParameters.recordedNames)
        if validation != nil {
            try replacing.checkReplacing(
                in: output.folder + "/validation", split: "validation", spec: spec, classNames: classNames, parameterNames: [])
        }
        let options = ["size": "\(image.size)", "channels": "\(image.channels)", "resize": spec.resize.rawValue]

        let uploader = try SetUpload.start(output.destination, folder: output.folder, validation: validation != nil)
        let upload = uploader.map { uploader in { @Sendable (path: String) in uploader.upload(path) } }
        let progress = ProgressLine()
        let trained = try SplitPreparation.prepare(
            train, of: dataset, classNames: classNames, as: "train", spec: spec, copies: copies,
            parameterNames: TransformParameters.recordedNames, into: output.folder,
            settings: try output.settings(replacing: replacing.replacing),
            provenance: PreparationSummary.provenance(
                "augment", dataset,
                options: options.merging(augmentation.recorded) { $1 }
                    .merging(["copies": "\(copies)"]) { $1 }, seed: seed.seed),
            progress: PreparationSummary.progress(progress, "augmenting (×\(copies))"), shardFinished: upload,
            preparers: { AugmentingPreparer(size: image.size, format: format, random: random, settings: settings, seed: seed.seed) })
        progress.finish()

        var packed: SplitPreparation.Outcome?
        if let validation {
            packed = try SplitPreparation.prepare(
                validation, of: dataset, classNames: classNames, as: "validation", spec: spec, into: output.folder + "/validation",
                settings: try output.settings(replacing: replacing.replacing),
                provenance: PreparationSummary.provenance("augment", dataset, options: options, seed: nil),
                progress: PreparationSummary.progress(progress, "packing validation"), shardFinished: upload,
                preparers: { ResizingPreparer(spec: spec) })
            progress.finish()
        }
        // Both sets are complete: only now do they replace what OUT and OUT/validation held.
        try SetUpload.commit([trained.staged, packed?.staged], after: uploader)
        let written = trained.report.written
        print(
            "augmented \(Diagnostics.count(written, "training image")) × \(Diagnostics.count(copies, "copy", "copies")) of "
                + "\(Diagnostics.count(classNames.count, "class", "classes")) into \(Diagnostics.count(trained.manifest.shards.count, "shard")) "
                + "in \(output.out) "
                + String(
                    format: "(%.1f s, %.0f images/s, %.0f samples/s)", trained.seconds, Double(written) / max(trained.seconds, 1e-9),
                    Double(written * copies) / max(trained.seconds, 1e-9)))
        if let packed {
            print(
                "packed \(Diagnostics.count(packed.report.written, "validation image")) into "
                    + "\(Diagnostics.count(packed.manifest.shards.count, "shard")) in \(output.out)/validation")
        }
        try SetUpload.finish(uploader, manifests: [output.folder + "/validation/manifest.json", output.folder + "/manifest.json"])
        PreparationSummary.reportProblems([trained.report] + (packed.map { [$0.report] } ?? []))
    }
}
