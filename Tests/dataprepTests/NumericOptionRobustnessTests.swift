import Codecs
import Foundation
import Support
import TestSupport
import Testing

/// Runs independent commands two at a time.
enum ParallelRuns {
    static func map<T>(_ items: [[String]], _ body: ([String]) throws -> T) throws -> [T] {
        try ParallelWork.map(count: items.count, threads: 2) { _, index in try body(items[index]) }
    }
}

/// Every numeric option of every subcommand, given NaN, ±inf, negative, zero and huge values (and
/// absurd sizes): the command ends with an exit status — 0 when the value is valid, 1 for a
/// refused run, 64 for a usage error — never with a signal or a hang, and never sized an
/// allocation by the value.
@Suite(.serialized) struct NumericOptionRobustnessTests {
    static let numbers = ["nan", "inf", "-inf", "-1", "0", "1e300", "99999999999999"]
    static let sizes = ["nan", "0x0", "-1x5", "100000x100000", "99999999999999x1", "1e300x1", "8193x10"]
    static let pairs = ["nan,nan", "-1,2", "2,1", "1e300,1e300", "0,0", "inf,inf"]

    /// A tiny world every command can run in: a class-folder dataset, a split one, a shard set, a
    /// trained model and an image.
    struct World {
        let root: URL
        var path: String { root.path }
        var data: String { path + "/data/train" }
        var split: String { path + "/data" }
        var shards: String { path + "/shards" }
        var model: String { path + "/run/checkpoint.dpc" }
        var image: String { path + "/data/train/cats/0.jpg" }
        func fresh(_ name: String) -> String { path + "/out-\(name)-\(UUID().uuidString)" }
    }

    static func makeWorld() throws -> World {
        let world = World(root: try temporaryDirectory())
        try PackCommandTests.makeDataset(
            at: URL(fileURLWithPath: world.data), classes: ["cats", "dogs"], count: 3, size: PixelSize(width: 32, height: 24))
        try PackCommandTests.makeDataset(
            at: URL(fileURLWithPath: world.split + "/validation"), classes: ["cats", "dogs"], count: 1,
            size: PixelSize(width: 32, height: 24))
        #expect(try runDataprep(["augment", world.split, "--out", world.shards, "--size", "16x12"]).status == 0)
        let train = try runDataprep(
            ["train", "--shards", world.shards, "--model", "mlp", "--epochs", "1", "--run-dir", world.path + "/run"],
            environment: ["OMP_WAIT_POLICY": "PASSIVE"])
        #expect(train.status == 0, "\(train.stderr)")
        return world
    }

    /// (command and its base arguments, the numeric options to try, the values to try them with).
    static func cases(_ w: World) -> [(base: () -> [String], options: [String], values: [String])] {
        let augmentation = ["--rotate", "--shear", "--channel-shift", "--cval", "--shift", "--width-shift", "--height-shift"]
        return [
            ({ ["fetch", "--list"] }, ["--max-bytes", "--max-ratio"], numbers),
            ({ ["split", w.data, "--val", "0.2", "--out", w.fresh("split")] }, ["--val", "--test", "--seed", "--threads"], numbers),
            ({ ["scan", w.data] }, ["--threads", "--max-pixels"], numbers),
            (
                { ["augment", w.split, "--out", w.fresh("augment"), "--size", "16x12"] },
                augmentation + ["--copies", "--seed", "--shard-size", "--threads", "--channels"], numbers
            ),
            ({ ["augment", w.split, "--out", w.fresh("augment")] }, ["--size"], sizes),
            ({ ["augment", w.split, "--out", w.fresh("augment"), "--size", "16x12"] }, ["--zoom", "--brightness"], numbers + pairs),
            ({ ["pack", w.data, "--out", w.fresh("pack"), "--size", "16x12"] }, ["--channels", "--shard-size", "--threads"], numbers),
            ({ ["pack", w.data, "--out", w.fresh("pack")] }, ["--size"], sizes),
            (
                { ["preview", w.image, "--out", w.fresh("preview") + ".png"] },
                augmentation + ["--count", "--columns", "--seed"], numbers
            ),
            ({ ["preview", w.image, "--out", w.fresh("preview") + ".png"] }, ["--size"], sizes),
            ({ ["preview", w.image, "--out", w.fresh("preview") + ".png"] }, ["--zoom", "--brightness"], numbers + pairs),
            (
                { ["transform", w.image, "--out", w.fresh("transform") + ".png"] },
                ["--theta", "--tx", "--ty", "--shear", "--zx", "--zy", "--brightness", "--channel-shift", "--cval"], numbers
            ),
            ({ ["transform", w.image, "--out", w.fresh("transform") + ".png"] }, ["--size"], sizes),
            (
                { ["train", "--shards", w.shards, "--model", "mlp", "--epochs", "1", "--run-dir", w.fresh("run")] },
                ["--epochs", "--batch-size", "--lr", "--seed", "--early-stopping", "--min-delta"], numbers
            ),
            ({ ["train", "--summary", "--classes", "2"] }, ["--size"], sizes),
            ({ ["train", "--summary", "--size", "16x12"] }, ["--classes", "--channels"], numbers),
            (
                { ["train", "--summary", "--size", "64x64", "--classes", "2", "--model"] }, [""],
                ["dense99999999,output", "conv9999999999999,flatten,output", "dense9223372036854775807,output"]
            ),
            ({ ["evaluate", "--model", w.model, "--shards", w.shards] }, ["--batch-size"], numbers),
            ({ ["predict", "--model", w.model, w.image] }, ["--top"], numbers),
            ({ ["preview", w.image, "--out", w.fresh("preview") + ".png", "--epoch", "1"] }, ["--sample"], numbers),
            ({ ["preview", w.image, "--out", w.fresh("preview") + ".png"] }, ["--epoch"], numbers),
            (
                { ["pack", w.data, "--out", w.fresh("pack"), "--size", "16x12"] }, ["--part"],
                numbers + ["nan/nan", "-1/4", "4/4", "0/0", "1e12/1e12", "0/99999999999999"]
            ),
            (
                { ["train", "--shards", w.shards, "--model", "mlp", "--epochs", "1", "--run-dir", w.fresh("run")] },
                ["--size", "--rotate", "--zoom"], sizes + pairs
            ),
            ({ ["visualize", "--model", w.model, w.image, "--out", w.fresh("visualize")] }, ["--columns"], numbers),
            (
                { ["train", "--shards", w.shards, "--model", "mlp", "--epochs", "1", "--run-dir", w.fresh("run")] }, ["--stop-at"],
                numbers.map { "accuracy=\($0)" } + numbers.map { "val_loss=\($0)" }
            ),
            (
                { ["train", "--shards", w.shards, "--model", "mlp", "--epochs", "2", "--run-dir", w.fresh("run")] }, ["--lr-schedule"],
                numbers.map { "exp:\($0)" } + numbers.map { "step:\($0):0.5" } + numbers.map { "step:1:\($0)" }
            ),
        ]
    }

    @Test func noValueEndsInASignalOrAHang() throws {
        let world = try Self.makeWorld()
        defer { try? FileManager.default.removeItem(at: world.root) }
        let invocations = Self.cases(world).flatMap { base, options, values in
            options.flatMap { option in values.map { value in base() + (option.isEmpty ? [value] : ["\(option)=\(value)"]) } }
        }
        #expect(invocations.count > 300)
        // Two at a time (the machines have two cores); each run is independent.
        let results = try ParallelRuns.map(invocations) { arguments in
            try runDataprep(arguments, environment: ["OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"], timeLimit: 60)
        }
        for (arguments, result) in zip(invocations, results) {
            let command = arguments.joined(separator: " ")
            #expect(!result.timedOut, "hung: \(command)")
            #expect(!result.signalled, "signal \(result.status): \(command)\n\(result.stderr)")
            #expect([0, 1, 64].contains(result.status), "exit \(result.status): \(command)\n\(result.stderr)")
            if result.status == 64 {
                #expect(result.stderr.contains("Error:"), "a usage error names what is wrong: \(command)")
            }
        }
    }

    /// `OMP_NUM_THREADS` asking for more threads than the machine could start: libgomp started a team
    /// that large at oneDNN's first parallel region (100000 overflowed its stack: a segfault; 4096
    /// crawled for minutes on two cores). The commands that run oneDNN refuse it as a usage error
    /// naming the variable; the values libgomp ignores itself (with a warning) are left to it.
    @Test func ompNumThreadsBeyondTheMaximumIsAUsageError() throws {
        let summary = ["train", "--summary", "--size", "16x12", "--classes", "2", "--model", "mlp"]
        for value in ["100000", "18446744073709551615", "99999999999999999999", "+100000", " 100000", "2,100000"] {
            for arguments in [summary, ["evaluate", "--model", "/nonexistent/run", "--shards", "/nonexistent/set"]] {
                let result = try runDataprep(
                    arguments, environment: ["OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": value], timeLimit: 60)
                #expect(!result.signalled && !result.timedOut, "\(value): \(arguments)")
                #expect(
                    result.status == 64 && result.stderr.contains("Error: OMP_NUM_THREADS must be 1..."),
                    "\(value): \(arguments): \(result.stderr)")
            }
        }
        for value in ["1", "2", "2,1", "0", "nan", "", "-1", "1e12"] {
            let result = try runDataprep(summary, environment: ["OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": value], timeLimit: 60)
            #expect(result.status == 0, "\(value): \(result.stderr)")
        }
    }

    /// Hostile checkpoint templates: escapes, run files, control characters, spaces, absurd
    /// padding. Each is refused as a usage error before anything is made, or saves inside the
    /// run folder; none ends in a signal or a hang.
    static let templates = [
        "w{epoch}.dpw", "ckpt/w{epoch:03d}-{loss:.2f}.dpw", "../x/{epoch}.dpw", "{epoch:02d}/../../esc{epoch}.dpw", "/{epoch}/../../x.dpw",
        "history.csv", "checkpoint.dpc", "final-weights.dpw", "best-weights.dpw", "learning-curves.svg", ".dataprep.lock",
        "history.csv.tmp-{epoch}", "w\n{epoch}", "w\r{epoch}", "w\t{epoch}", "w\u{7F}", "w{epoch} ", " w{epoch}", "w{epoch:99d}",
        "w{epoch:0000000000000000000099d}", "w{loss:.99f}", "w{loss:-99.2f}", "w{epoch:+#0d}", "w{epoch::d}", "w{epoch:%n}",
        "w{epoch:d}{", "{}", "{{epoch}}", "w{epoch}/", "//w", ".", "..", "", String(repeating: "w", count: 300) + "{epoch}",
        String(repeating: "{epoch}", count: 100), "w{val_loss}.dpw", "w{epoch:018d}{loss:017.17e}{accuracy:020.17f}",
    ]

    /// Every hostile set of ``ManifestDamage`` given to the commands that open sets, and every
    /// hostile checkpoint template given to train: the command ends with an exit status — 1 with
    /// the code the Swift reader gives for the set (`error: <code>:`), 0 when the set is readable,
    /// 64 for a refused template — never with a signal (the divisions by zero and range traps of
    /// manifests that were trusted) or a hang (a FIFO where a file should be).
    @Test func noManifestOrTemplateEndsInASignalOrAHang() throws {
        let world = try Self.makeWorld()
        defer { try? FileManager.default.removeItem(at: world.root) }
        let several = world.path + "/several"  // shards of one record each, so cases can name two shards
        #expect(try runDataprep(["augment", world.split, "--out", several, "--size", "16x12", "--shard-size", "1KB"]).status == 0)
        var invocations: [(arguments: [String], code: String?)] = []
        for (index, damage) in ManifestDamage.cases.enumerated() {
            let set = world.path + "/damaged-\(index)"
            try FileManager.default.copyItem(atPath: several, toPath: set)
            try damage.apply(to: set)
            let code = (damage.open ?? damage.verify)?.rawValue
            for command in [
                ["inspect", set], ["verify", set], ["evaluate", "--model", world.model, "--shards", set],
                [
                    "train", "--shards", set, "--val", several + "/validation", "--model", "mlp", "--epochs", "1", "--run-dir",
                    world.fresh("run"),
                ],
            ] {
                invocations.append((command, code))
            }
        }
        for template in Self.templates {
            invocations.append(
                (
                    [
                        "train", "--shards", several, "--model", "mlp", "--epochs", "2", "--run-dir", world.fresh("run"), "--checkpoint",
                        template,
                    ], nil
                ))
        }
        let results = try ParallelRuns.map(invocations.map(\.arguments)) { arguments in
            try runDataprep(arguments, environment: ["OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"], timeLimit: 60)
        }
        for ((arguments, code), result) in zip(invocations, results) {
            let command = arguments.map { PathComponent.escaped($0) }.joined(separator: " ")
            #expect(!result.timedOut, "hung: \(command)")
            #expect(!result.signalled, "signal \(result.status): \(command)\n\(result.stderr)")
            #expect([0, 1, 64].contains(result.status), "exit \(result.status): \(command)\n\(result.stderr)")
            if let code {
                #expect(result.status == 1 && result.stderr.contains("error: \(code):"), "\(command)\n\(result.stderr)")
            }
            if arguments.contains("--checkpoint") {
                if result.status == 64 { #expect(result.stderr.contains("Error: --checkpoint: "), "\(command)\n\(result.stderr)") }
                #expect(result.status != 1, "a template is refused when parsed, or saves: \(command)\n\(result.stderr)")
            }
        }
        // Nothing was written outside the world's folder by an escaping template.
        #expect(!FileManager.default.fileExists(atPath: world.root.deletingLastPathComponent().path + "/x"))
        #expect(!FileManager.default.fileExists(atPath: world.root.deletingLastPathComponent().path + "/esc1.dpw"))
    }
}
