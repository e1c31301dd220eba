import ArgumentParser
import Augment
import Codecs
import Datasets
import Foundation
import Preparation
import Shards
import Support

/// `dataprep pack DIR --size 150x150 --out OUT`: a folder of class folders → resized shards, no
/// augmentation (what validation data gets).
struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode and resize a folder of class folders into shards, without augmentation.",
        discussion: """
            DIR holds one class folder per class (for example cats_and_dogs_filtered/validation). \
            Each image is decoded at the smallest JPEG DCT scale that still covers SIZE, turned \
            upright by its EXIF orientation and resized to exactly SIZE by the resample augment runs \
            with no augmentation: bilinear, area-averaged where it shrinks more than 2x \
            (--interpolation nearest takes the nearest pixel; --keras-compat resizes as Keras's \
            load_img does). Like Keras's target_size, the aspect ratio is not kept. The manifest \
            records this image spec, and a model trained on the set gets its input made the same \
            way by evaluate, predict and visualize. Labels follow the sorted class names, or the \
            order of a classes.txt (one class per line, as fetch writes) in DIR or, for a split \
            folder, its parent. A set of another spec, classes or split already in OUT is not \
            replaced without --overwrite. Images \
            that cannot be decoded are skipped and listed at the end (--on-error fail stops at the \
            first). The output is identical whatever the thread count.
            """
    )

    @Argument(help: "A folder of class folders.")
    var directory: String

    @OptionGroup(title: "Image")
    var image: ImageSizeOptions

    @OptionGroup(title: "Resize")
    var resize: ResizeOptions

    @Option(help: "Split name recorded in the shards (default: the folder's name when it is a split name, else 'train').")
    var split: String?

    @OptionGroup(title: "Output")
    var output: ShardOutputOptions

    @OptionGroup(title: "Output")
    var replacing: OverwriteOption

    func run() throws {
        let dataset = try DatasetDirectory(reading: directory)
        guard !dataset.isSplit else {
            let names = dataset.splits.map(\.name).joined(separator: ", ")
            throw ValidationError("\(directory) holds splits (\(names)): pack one of them, e.g. \(directory)/\(dataset.splits[0].name)")
        }
        let folderName = (dataset.root as NSString).lastPathComponent
        let splitName = split ?? (DatasetDirectory.splitNames.contains(folderName.lowercased()) ? folderName : "train")
        let spec = image.spec(resize.resize)
        try output.checkSeparate(from: [dataset.root])
        if dataset.classNames.count == 1 {
            Diagnostics.warning(
                "\(directory) holds one class (\(dataset.classNames[0])): a classifier needs at least two, and train refuses "
                    + "a set of one class; give pack the folder that holds all the class folders")
        }
        let locks = try output.locks()
        defer { for lock in locks.reversed() { lock.release() } }
        try replacing.checkReplacing(
            in: output.folder, split: splitName, spec: spec, classNames: dataset.classNames, parameterNames: [])
        let uploader = try SetUpload.start(output.destination, folder: output.folder, validation: false)
        let upload = uploader.map { uploader in { @Sendable (path: String) in uploader.upload(path) } }
        let progress = ProgressLine()
        let outcome = try SplitPreparation.prepare(
            dataset.splits[0], of: dataset, classNames: dataset.classNames, as: splitName, spec: spec,
            into: output.folder, settings: try output.settings(replacing: replacing.replacing),
            provenance: PreparationSummary.provenance(
                "pack", dataset,
                options: [
                    "size": "\(image.size)", "channels": "\(image.channels)",
                    "resize": spec.resize.rawValue,
                ], seed: nil),
            progress: PreparationSummary.progress(progress, "packing"),
            shardFinished: upload,
            preparers: { ResizingPreparer(spec: spec) })
        progress.finish()
        try SetUpload.commit([outcome.staged], after: uploader)
        print(
            "packed \(Diagnostics.count(outcome.report.written, "image")) of \(Diagnostics.count(dataset.classNames.count, "class", "classes")) "
                + "into \(Diagnostics.count(outcome.manifest.shards.count, "shard")) in \(output.out) "
                + String(format: "(%.1f s, %.0f images/s)", outcome.seconds, Double(outcome.report.written) / max(outcome.seconds, 1e-9)))
        try SetUpload.finish(uploader, manifests: [output.folder + "/manifest.json"])
        PreparationSummary.reportProblems([outcome.report])
    }
}
