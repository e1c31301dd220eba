import Foundation
import Testing

@testable import dataprep

/// A Keras argument name typed as a flag gets a usage error naming dataprep's equivalent, or saying
/// that it is not supported and why, never argument-parser's bare "Unknown option".
@Suite struct KerasArgumentNameTests {
    /// The issue's examples, as a Keras user types them: the command, the flag, and what the answer
    /// must say.
    static let examples: [(command: String, flag: String, says: String)] = [
        (
            "train", "--rotation-range",
            "--rotation-range is Keras's rotation_range: dataprep's option is --rotate DEG (train, augment and preview)"
        ),
        (
            "train", "--horizontal-flip",
            "--horizontal-flip is Keras's horizontal_flip: dataprep's option is --flip (train, augment and preview)"
        ),
        ("augment", "--zoom-range", "--zoom-range is Keras's zoom_range: dataprep's option is --zoom Z or --zoom LOW,HIGH"),
        ("train", "--fill-mode", "--fill-mode is Keras's fill_mode: dataprep's option is --fill nearest|constant|reflect|wrap"),
        (
            "train", "--rescale",
            "--rescale is Keras's rescale, not a dataprep option: the rescale (1/255) is part of every shard set's image spec"
        ),
        ("pack", "--target-size", "target_size=(150, 200) is --size 200x150"),
        ("train", "--validation-split", "`dataprep split DIR --val 0.2 --seed 1 --out OUT`"),
        ("pack", "--color-mode", "--color-mode is Keras's color_mode: dataprep's option is --channels 1 (pack and augment)"),
        ("train", "--steps-per-epoch", "not supported: an epoch reads every training image once"),
        ("augment", "--featurewise-center", "not supported: it needs statistics of the whole training set"),
        ("augment", "--samplewise-std-normalization", "not supported: the models take pixels × 1/255, not normalised per image"),
        ("augment", "--zca-whitening", "not supported: ZCA whitening needs the covariance of the whole training set"),
        ("train", "--rotation_range=40", "--rotation_range is Keras's rotation_range: dataprep's option is --rotate DEG"),
    ]

    @Test(arguments: examples)
    func aKerasNameIsAnsweredWithDataprepsEquivalent(command: String, flag: String, says: String) throws {
        let result = try runDataprep([command, flag, "1", "--out", "unused"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: \(flag.split(separator: "=")[0]) is Keras's"), "\(result.stderr)")
        #expect(result.stderr.contains(says), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: dataprep \(command) "), "the subcommand's usage: \(result.stderr)")
        #expect(!result.stderr.contains("Unknown option") && !result.stderr.contains("Did you mean"))
    }

    @Test func everyNameIsAnsweredAndNoneIsADataprepOption() throws {
        let snapshots = HelpSnapshotTests.folder
        var options = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: snapshots.path) {
            let help = try String(contentsOf: snapshots.appendingPathComponent(file), encoding: .utf8)
            for line in help.split(separator: "\n") where line.hasPrefix("  --") {
                options.insert(String(line.dropFirst(2).split(separator: " ")[0]))
            }
        }
        #expect(options.contains("--rotate") && options.contains("--seed"))
        for (name, answer) in KerasArgumentNames.answers {
            let flag = "--" + name.replacingOccurrences(of: "_", with: "-")
            #expect(!options.contains(flag), "\(flag) is a dataprep option: it must keep its meaning")
            let message = try #require(KerasArgumentNames.message(for: ["train", flag]))
            #expect(message.hasPrefix("\(flag) is Keras's \(name)"))
            if case .renamed(let option, _, _) = answer {
                let named = String(option.split(separator: " ")[0])
                #expect(options.contains(named), "\(name) is answered with \(named), which is no dataprep option")
            }
        }
    }

    @Test func flagsAfterTheSeparatorAndDataprepsOwnOptionsAreLeftAlone() {
        #expect(KerasArgumentNames.message(for: ["predict", "--model", "run", "--", "--rescale"]) == nil)
        #expect(KerasArgumentNames.message(for: ["train", "--vertical-flip", "--seed", "1", "--shuffle", "global"]) == nil)
    }

    @Test func theKerasPageMapsColorModeTheSizeOrderAndWhatIsNotSupported() throws {
        let page = try String(contentsOf: DistributionTests.root.appendingPathComponent("docs/keras.md"), encoding: .utf8)
        let rows = page.split(separator: "\n").filter { $0.hasPrefix("| ") }
        func row(_ argument: String) -> Substring? { rows.first { $0.hasPrefix("| `\(argument)") } }
        #expect(row("color_mode")?.contains("`--channels 1`") == true)
        #expect(
            row("target_size=(150, 200)")?.contains("`--size 200x150`: width first, the **reverse** of Keras's `(height, width)`") == true)
        for unsupported in ["featurewise_center", "samplewise_center", "zca_whitening"] {
            #expect(row(unsupported)?.contains("not supported") == true, "\(unsupported)")
        }
    }
}
