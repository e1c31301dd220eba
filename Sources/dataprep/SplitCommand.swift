import ArgumentParser
import Datasets
import Fetch
import Foundation
import Support

/// `dataprep split DIR --val F [--test F] --seed S --out OUT`: the seeded, stratified split of a
/// class-folder dataset into train/validation(/test) folders with a manifest.
struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a class-folder dataset into train, validation and test folders, per class and seeded.",
        discussion: """
            Each class's images (sorted by path) are shuffled with a generator seeded from --seed \
            and the class name; the first round(n*val) go to validation, the next round(n*test) to \
            test, the rest to train. Unlike Keras's validation_split, every class keeps its \
            proportions, and the same seed gives the same split on every machine. Byte-identical \
            images are kept in one split (the split of the first of them) and listed. Images are \
            hard links to the originals where possible, copies otherwise, at the same path under \
            OUT/<split>/<class>/. OUT/split.json records the seed, the fractions, and each image's \
            split, class, sha256 and source.

            OUT is written under a temporary name and renamed at the end, so an interrupted split \
            leaves no OUT. A folder that is already split (DIR/train/..., DIR/validation/...) is \
            left alone. Exit status: 0 on success or when DIR is already split; 1 when DIR cannot \
            be read or OUT cannot be written (or exists); 64 for usage errors.
            """
    )

    @Argument(help: ArgumentHelp("The dataset folder: DIR/<class>/...", valueName: "dir"))
    var directory: String

    @Option(name: .customLong("val"), help: "The fraction of each class for validation, e.g. 0.2.")
    var validation: Double

    @Option(help: "The fraction of each class for test; 0 makes no test folder.")
    var test: Double = 0

    @OptionGroup var seed: SeedOption

    @Option(help: ArgumentHelp("The folder to create; it must not exist.", valueName: "out"))
    var out: String

    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        guard validation.isFinite, validation >= 0 else { throw ValidationError("--val must be at least 0, got \(validation)") }
        guard test.isFinite, test >= 0 else { throw ValidationError("--test must be at least 0, got \(test)") }
        guard validation + test < 1 else {
            throw ValidationError("--val and --test must add up to less than 1, got \(validation) + \(test)")
        }
    }

    func run() throws {
        let dataset = try DatasetDirectory(reading: directory)
        if dataset.isSplit {
            print("\(dataset.root) is already split (\(dataset.splits.map(\.name).joined(separator: ", "))); nothing written")
            return
        }
        let classes = dataset.splits[0].classes
        Diagnostics.write("reading \(classes.reduce(0) { $0 + $1.images.count }) images in \(classes.count) classes\n")
        let splitter = try DatasetSplitter(validation: validation, test: test, seed: seed.seed, threads: threads.count)
        let (plan, placement) = try splitter.split(dataset, into: out)
        Diagnostics.write(
            "wrote \(out) (\(placement.hardLinks) hard links, \(placement.copies) copies) "
                + "and \(out)/\(SplitPlan.manifestName)\n")
        print(SplitSummary(plan).rendered(), terminator: "")
        fflush(nil)  // keep the summary before the warnings when both go to one pipe
        for group in plan.duplicates where group.spansClasses {
            Diagnostics.warning(
                "identical images in different classes (\(group.classNames.joined(separator: ", "))): "
                    + group.paths.joined(separator: ", "))
        }
        if !plan.ignoredFiles.isEmpty {
            Diagnostics.warning(
                "left out \(plan.ignoredFiles.count) files whose names are not images: "
                    + plan.ignoredFiles.prefix(5).joined(separator: ", ")
                    + (plan.ignoredFiles.count > 5 ? ", ..." : ""))
        }
    }
}

/// The text `dataprep split` prints: images per class and split, then the duplicate groups.
struct SplitSummary {
    let plan: SplitPlan

    init(_ plan: SplitPlan) { self.plan = plan }

    func rendered() -> String {
        let splits = plan.splits
        let counts = plan.classNames.map { name in splits.map { plan.count(split: $0, className: name) } }
        let totals = splits.indices.map { column in counts.reduce(0) { $0 + $1[column] } }
        let nameWidth = max(5, plan.classNames.map(\.count).max() ?? 0)
        let widths = splits.indices.map { column in
            max(splits[column].rawValue.count, String(totals[column]).count)
        }
        func row(_ name: String, _ cells: [String]) -> String {
            let padded = name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let right = zip(cells, widths).map { String(repeating: " ", count: $1 - $0.count) + $0 }
            return ([padded] + right).joined(separator: "  ") + "\n"
        }
        var text = row("class", splits.map(\.rawValue))
        for (name, cells) in zip(plan.classNames, counts) { text += row(name, cells.map(String.init)) }
        text += row("total", totals.map(String.init))

        let duplicates = plan.duplicates
        if duplicates.isEmpty {
            text += "duplicates: none\n"
        } else {
            let groups = duplicates.count == 1 ? "1 group" : "\(duplicates.count) groups"
            text += "duplicates: \(groups) of byte-identical images, each kept in one split:\n"
            for group in duplicates {
                text +=
                    "  " + group.paths.joined(separator: " = ")
                    + (group.spansClasses ? "  (different classes)" : "") + "\n"
            }
        }
        return text
    }
}
