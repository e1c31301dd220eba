import ArgumentParser
import Augment
import Codecs
import Fetch
import Foundation
import Shards

/// `dataprep pack DIR --size 150x150 --out OUT`: a folder of class folders → resized shards, no
/// augmentation (what validation data gets).
struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode and resize a folder of class folders into shards, without augmentation.",
        discussion: """
            DIR holds one class folder per class (for example cats_and_dogs_filtered/validation). \
            Each image is decoded at the smallest JPEG DCT scale that still covers SIZE and resized \
            to exactly SIZE with an antialiased bilinear filter (each output pixel averages the source \
            pixels it covers when shrinking), like Keras's target_size the aspect ratio is not kept. \
            Images that cannot be decoded are skipped and listed at the end (--on-error fail stops \
            at the first). The output is identical whatever the thread count.
            """
    )

    @Argument(help: "A folder of class folders.")
    var directory: String

    @Option(help: "Output size WIDTHxHEIGHT, e.g. 150x150.")
    var size: PixelSize

    @Option(help: "Output folder for the shard set (manifest.json and <split>-NNNNN.dps).")
    var out: String

    @Option(help: "Split name recorded in the shards (default: the folder's name when it is a split name, else 'train').")
    var split: String?

    @OptionGroup(title: "Output")
    var output: PreparationOptions

    func run() throws {
        let dataset = try DatasetDirectory(reading: directory)
        guard !dataset.isSplit else {
            let names = dataset.splits.map(\.name).joined(separator: ", ")
            throw ValidationError("\(directory) holds splits (\(names)): pack one of them, e.g. \(directory)/\(dataset.splits[0].name)")
        }
        let classes = dataset.splits[0].classes
        let items = classes.enumerated().flatMap { label, folder in folder.images.map { PreparationItem(path: $0, label: label) } }
        let folderName = (dataset.root as NSString).lastPathComponent
        let splitName = split ?? (DatasetDirectory.splitNames.contains(folderName.lowercased()) ? folderName : "train")
        let layout = RecordLayout(height: size.height, width: size.width, channels: output.channels, hasSource: true, parameterCount: 0)
        let writer = try ShardWriter(directory: out, split: splitName, layout: layout,
                                     rotation: .init(maxBytes: output.shardSize.bytes))
        let format: PixelFormat = output.channels == 1 ? .gray : .rgb
        let progress = ProgressLine()
        let report = try ShardPreparation.run(
            items: items, copies: 1, writer: writer, threads: output.threads, onError: output.onError,
            progress: { done in
                progress.update(String(format: "packing %d/%d images, %.0f images/s", done, items.count,
                                       Double(done) / max(progress.elapsed, 1e-9)))
            },
            preparers: { ResizingPreparer(size: size, format: format) })
        progress.finish()
        let root = dataset.root + "/"
        let manifest = try writer.finish(
            classNames: classes.map(\.name), sources: items.map { String($0.path.dropFirst(root.count)) },
            provenance: .init(dataset: dataset.root, tool: "dataprep \(DataPrep.version)",
                              options: ["command": "pack", "size": "\(size)", "channels": "\(output.channels)", "filter": "bilinear"],
                              seed: nil))

        for (path, warning) in report.warnings { Diagnostics.warning("\(path): \(warning)") }
        print("packed \(report.written) images of \(classes.count) classes into \(manifest.shards.count) shards in \(out) "
              + String(format: "(%.1f s, %.0f images/s)", progress.elapsed, Double(items.count) / max(progress.elapsed, 1e-9)))
        if !report.skipped.isEmpty {
            Diagnostics.write("skipped \(report.skipped.count) images that could not be decoded:\n")
            for error in report.skipped { Diagnostics.write("  \(error)\n") }
        }
    }
}

