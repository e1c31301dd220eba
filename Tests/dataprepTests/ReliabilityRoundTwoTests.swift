import Codecs
import Foundation
import Shards
import Support
import TestSupport
import Testing

/// One regression test per class of issue 23 ("Reliability, round two") that the command line
/// owns. The classes held elsewhere: manifests read back (4) by `ShardDamageTests`, the fuzz test
/// (`NumericOptionRobustnessTests`) and the Python reader; downloads (8) by `DownloadTests`;
/// archive names (9) by `ExtractionTests`.
@Suite struct ReliabilityRoundTwoTests {
    static let passive = ["OMP_WAIT_POLICY": "PASSIVE"]

    /// A folder `dir`/`name` of class folders `cats` and `dogs` whose images cannot be decoded.
    static func undecodable(in dir: URL, _ name: String) throws -> String {
        let root = dir.appendingPathComponent(name)
        for folder in ["cats", "dogs"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try Data("not a jpeg".utf8).write(to: root.appendingPathComponent(folder + "/0.jpg"))
        }
        return root.path
    }

    /// The bytes of every file under `folder`, by relative path.
    static func snapshot(_ folder: String) throws -> [String: Data] {
        let files = TestFiles.files(under: folder)
        return try Dictionary(uniqueKeysWithValues: files.map { ($0, try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0))) })
    }

    /// `count` 16×12 photos each of cats and dogs in DIR/data, packed 8×6 into DIR/shards, and the
    /// run folder DIR/run to train into.
    static func packedCatsAndDogs(
        in dir: URL, count: Int = 2, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (data: URL, shards: String, run: String) {
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: count, size: PixelSize(width: 16, height: 12))
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        let pack = try runDataprep(["pack", data.path, "--size", "8x6", "--out", shards])
        #expect(pack.status == 0, "\(pack.stderr)", sourceLocation: sourceLocation)
        return (data, shards, run)
    }

    /// The command that trains the MLP on `shards` for one epoch into `run`.
    static func oneEpoch(_ shards: String, _ run: String) -> [String] {
        ["train", "--shards", shards, "--model", "mlp", "--epochs", "1", "--run-dir", run]
    }

    // MARK: 1. Replacing what exists

    @Test func aSetIsReplacedOnlyOnceTheNewOneIsCompleteAndOnlyWhereAllowed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 3)
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("validation"), classes: ["cats", "dogs"], count: 1)
        // A rerun (same shape) and --overwrite runs whose images cannot be decoded fail, and the
        // set they would have replaced is as it was, byte for byte.
        let packed = dir.appendingPathComponent("packed").path
        #expect(try runDataprep(["pack", data.path + "/train", "--size", "16x12", "--out", packed]).status == 0)
        let packedBefore = try Self.snapshot(packed)
        let bad = try Self.undecodable(in: dir, "bad")
        for extra in [[], ["--overwrite"], ["--channels", "1", "--overwrite"]] {
            let run = try runDataprep(["pack", bad, "--size", "16x12", "--out", packed, "--split", "train"] + extra)
            #expect(run.status == 1 && run.stderr.contains("none of the 2 images could be decoded"), "\(extra): \(run.stderr)")
            #expect(try Self.snapshot(packed) == packedBefore, "\(extra)")
        }
        let out = dir.appendingPathComponent("out").path
        #expect(try runDataprep(["augment", data.path, "--out", out, "--size", "16x12"]).status == 0)
        let before = try Self.snapshot(out)
        // augment replaces OUT and OUT/validation only once both are complete: a validation split
        // that cannot be decoded leaves both sets as they were.
        let mixed = dir.appendingPathComponent("mixed")
        try PackCommandTests.makeDataset(at: mixed.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 2)
        try FileManager.default.moveItem(atPath: bad, toPath: mixed.appendingPathComponent("validation").path)
        let augment = try runDataprep(["augment", mixed.path, "--out", out, "--size", "16x12", "--copies", "2"])
        #expect(augment.status == 1, "\(augment.stderr)")
        #expect(try Self.snapshot(out) == before)

        // merge does not turn a validation set into a training set without --overwrite.
        var parts: [String] = []
        for index in 0..<2 {
            let part = dir.appendingPathComponent("part\(index)").path
            #expect(try runDataprep(["pack", data.path + "/train", "--size", "16x12", "--out", part, "--part", "\(index)/2"]).status == 0)
            parts.append(part)
        }
        let validation = out + "/validation"
        let validationBefore = try Self.snapshot(validation)
        let merge = try runDataprep(["merge", validation] + parts)
        #expect(merge.status == 64 && merge.stderr.contains("differ in split"), "\(merge.stderr)")
        #expect(try Self.snapshot(validation) == validationBefore)
        #expect(try runDataprep(["merge", validation, "--overwrite"] + parts).status == 0)
        #expect(try ShardSet(directory: validation).manifest.split == "train")
        #expect(!FileManager.default.fileExists(atPath: validation + "/validation-00000.dps"))  // the old set's shards went too
    }

    // MARK: 2. The lock

    @Test func everyFolderWrittenIsLockedAndTheLockIsNeverFollowedOrReplaced() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 2)
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("validation"), classes: ["cats", "dogs"], count: 1)
        let out = dir.appendingPathComponent("out").path

        // augment writes OUT/validation too, so it locks it: a pack holding it makes augment fail.
        let held = try FolderLock(out + "/validation")
        let augment = try runDataprep(["augment", data.path, "--out", out, "--size", "16x12"])
        #expect(augment.status == 1 && augment.stderr.contains("error: locked: \(out)/validation"), "\(augment.stderr)")
        held.release()
        #expect(!FileManager.default.fileExists(atPath: out + "/manifest.json"))

        // A symbolic link planted as the lock file is refused, and what it points at is untouched.
        let precious = dir.appendingPathComponent("precious.txt").path
        try Data("keep".utf8).write(to: URL(fileURLWithPath: precious))
        let planted = dir.appendingPathComponent("planted").path
        try FileManager.default.createDirectory(atPath: planted, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: planted + "/" + FolderLock.fileName, withDestinationPath: precious)
        let pack = try runDataprep(["pack", data.path + "/train", "--size", "16x12", "--out", planted])
        #expect(pack.status == 1 && pack.stderr.contains("is a symbolic link"), "\(pack.stderr)")
        #expect(try String(contentsOfFile: precious, encoding: .utf8) == "keep")

        // A checkpoint template cannot name the run's lock (renaming over it would unlock the run).
        let train = try runDataprep(
            ["train", "--shards", out, "--run-dir", dir.appendingPathComponent("run").path, "--checkpoint", FolderLock.fileName])
        #expect(train.status == 64 && train.stderr.contains("a file the run itself writes"), "\(train.stderr)")
    }

    // MARK: 3. Run files named by templates

    @Test(arguments: [
        ("history.csv", "a file the run itself writes"), ("checkpoint.dpc", "a file the run itself writes"),
        ("final-weights.dpw.tmp-{epoch}", "a file the run itself writes"), ("history.csv/w{epoch}.dpw", "a file the run itself writes"),
        ("../x/{epoch}.dpw", "'..'"), ("{epoch:02d}/../../esc{epoch}.dpw", "'..'"), ("ckpt//w{epoch}.dpw", "''"),
        ("./w{epoch}.dpw", "'.'"), ("w{epoch}\n.dpw", "control character"), ("w{epoch}\r.dpw", "control character"),
        ("w{epoch}.dpw ", "space"), (" w{epoch}.dpw", "space"), ("w{epoch:99d}.dpw", "'99d'"), ("w{epoch:21d}.dpw", "'21d'"),
        ("w{epoch:5d}.dpw", "'5d'"), ("w{loss:-8.2f}.dpw", "'-8.2f'"), ("w{loss: .2f}.dpw", "' .2f'"), ("w{loss:.18f}.dpw", "'.18f'"),
    ])
    func aTemplateStaysInsideTheRunFolderAndNamesNoRunFile(template: String, named: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        let result = try runDataprep(["train", "--shards", dir.path, "--run-dir", run, "--checkpoint", template])
        #expect(result.status == 64 && result.stderr.contains("--checkpoint: ") && result.stderr.contains(named), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run))
    }

    @Test func anAbsoluteTemplateCannotNameARunFileEither() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, run) = try Self.packedCatsAndDogs(in: dir)
        for template in [run + "/history.csv", run, run + "/" + FolderLock.fileName] {
            let result = try runDataprep(Self.oneEpoch(shards, run) + ["--checkpoint", template], environment: Self.passive)
            #expect(result.status == 1 && result.stderr.contains("checkpoint template"), "\(template): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: run), "a failed run leaves no folder holding only its lock")
        }
        // One inside the run folder under another name is fine.
        let ok = try runDataprep(Self.oneEpoch(shards, run) + ["--checkpoint", run + "/w{epoch}.dpw"], environment: Self.passive)
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: run + "/w1.dpw"), "\(ok.stderr)")
    }

    // MARK: 5. Empty is not zero

    @Test func anEmptySetHasNoLossAndIsNotRecordedAsZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, shards, run) = try Self.packedCatsAndDogs(in: dir)
        let empty = dir.appendingPathComponent("empty").path
        #expect(try runDataprep(["pack", data.path, "--size", "8x6", "--out", empty, "--split", "validation"]).status == 0)
        try ManifestDamage.cases.first { $0.name == "an empty set" }!.apply(to: empty)
        let train = try runDataprep(Self.oneEpoch(shards, run) + ["--val", empty], environment: Self.passive)
        #expect(train.status == 1 && train.stderr.contains("holds no samples"), "\(train.stderr)")
        #expect(!train.stdout.contains("val_loss"), "\(train.stdout)")
        #expect(!FileManager.default.fileExists(atPath: run + "/history.csv"))
        #expect(try runDataprep(Self.oneEpoch(shards, run), environment: Self.passive).status == 0)
        let evaluate = try runDataprep(["evaluate", "--model", run, "--shards", empty], environment: Self.passive)
        #expect(evaluate.status == 1 && evaluate.stderr.contains("hold no samples"), "\(evaluate.stderr)")
        #expect(!evaluate.stdout.contains("loss"), "\(evaluate.stdout)")
    }

    // MARK: 6. FIFOs and other non-files

    @Test func aFIFOWhereAFileIsExpectedIsRefusedAtOnce() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, shards, run) = try Self.packedCatsAndDogs(in: dir)
        #expect(try runDataprep(Self.oneEpoch(shards, run), environment: Self.passive).status == 0)
        let fifo = dir.appendingPathComponent("pipe.png").path, model = dir.appendingPathComponent("pipe.dpw").path
        #expect(mkfifo(fifo, 0o644) == 0 && mkfifo(model, 0o644) == 0)
        let image = data.path + "/cats/0.jpg"
        let runs = [
            ["info", fifo], ["predict", "--model", run, fifo], ["preview", fifo, "--out", dir.path + "/p.png"],
            ["visualize", "--model", run, fifo, "--out", dir.path + "/maps"], ["predict", "--model", model, image],
            ["export", "--model", model, "--out", dir.path + "/m.onnx"],
        ]
        for arguments in runs {
            let result = try runDataprep(arguments, environment: Self.passive, timeLimit: 30)
            #expect(!result.timedOut && result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("FIFO") && !result.stderr.contains("permission"), "\(arguments): \(result.stderr)")
        }
        let fetch = try runDataprep(["fetch", fifo], environment: ["DATAPREP_HOME": dir.path + "/home"], timeLimit: 30)
        #expect(!fetch.timedOut && fetch.status == 1 && fetch.stderr.contains("FIFO"), "\(fetch.stderr)")
    }

    // MARK: 7. Merging parts made another way

    @Test func partsMadeWithOtherSeedsOrOptionsAreNotMergedAndTheMergedSetKeepsTheirs() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        try PackCommandTests.makeDataset(at: URL(fileURLWithPath: data + "/train"), classes: ["cats", "dogs"], count: 2)
        func part(_ index: Int, _ options: [String]) throws -> String {
            let out = dir.appendingPathComponent("p\(index)-\(options.joined())").path
            let run = try runDataprep(["augment", data, "--out", out, "--size", "16x12", "--part", "\(index)/2"] + options)
            #expect(run.status == 0, "\(run.stderr)")
            return out
        }
        let first = try part(0, ["--rotate", "10", "--seed", "1"])
        for (other, differs) in [(["--rotate", "10", "--seed", "2"], "seed"), (["--rotate", "20", "--seed", "1"], "rotate")] {
            let merge = try runDataprep(["merge", dir.appendingPathComponent("m").path, first, try part(1, other)])
            #expect(
                merge.status == 1 && merge.stderr.contains("error: manifestMismatch") && merge.stderr.contains(differs), "\(merge.stderr)")
        }
        let merged = dir.appendingPathComponent("merged").path
        #expect(try runDataprep(["merge", merged, first, try part(1, ["--rotate", "10", "--seed", "1"])]).status == 0)
        let provenance = try ShardSet(directory: merged).manifest.provenance
        #expect(provenance.seed == 1 && provenance.options["command"] == "augment" && provenance.options["rotate"] != nil)
        #expect(provenance.options["merged"] == "2 parts", "\(provenance.options)")
    }

    // MARK: 10. Class names that would forge output lines

    @Test(arguments: ["ca\nts", "ca\tts", "cats\r"])
    func aClassNameWithALineBreakOrTabIsRefused(name: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: [name, "dogs"], count: 1, size: PixelSize(width: 16, height: 12))
        let out = dir.appendingPathComponent("out").path
        let pack = try runDataprep(["pack", data.path, "--size", "8x6", "--out", out])
        #expect(pack.status == 1 && pack.stderr.contains("badLayout") && pack.stderr.contains("control character"), "\(pack.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "a failed run leaves no folder holding only its lock")
    }

    // MARK: 11. Numbers checked when parsed

    @Test(arguments: [
        ["--min-delta", "nan"], ["--min-delta", "inf"], ["--min-delta=-1"], ["--stop-at", "accuracy=nan"], ["--stop-at", "val_loss=inf"],
        ["--stop-at", "accuracy=2"], ["--lr-schedule", "exp:1e308"], ["--lr-schedule", "exp:nan"], ["--lr-schedule", "step:0:0.5"],
        ["--lr-schedule", "step:99999999999:0.5"], ["--early-stopping=-1"],
    ])
    func callbackNumbersAreCheckedWhenParsed(options: [String]) throws {
        let result = try runDataprep(["train", "--shards", "/nonexistent", "--model", "mlp"] + options)
        #expect(result.status == 64 && result.stderr.contains("Error: "), "\(options): \(result.stderr)")
    }

    // MARK: Weak items

    @Test func callbacksThatWouldNeverActAreRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, run) = try Self.packedCatsAndDogs(in: dir)
        let base = Self.oneEpoch(shards, run)
        for options in [
            ["--early-stopping", "2"], ["--early-stopping", "2", "--restore-best"], ["--checkpoint", "w{epoch}.dpw", "--save-best-only"],
        ] {
            let result = try runDataprep(base + options, environment: Self.passive)
            #expect(result.status == 1 && result.stderr.contains("no validation set to measure it"), "\(options): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: run), "a failed run leaves no folder holding only its lock")
        }
        let loss = try runDataprep(base + ["--early-stopping", "2", "--monitor", "loss"], environment: Self.passive)
        #expect(loss.status == 0, "\(loss.stderr)")
    }

    @Test func aKilledWritersTemporaryFileIsRemovedByTheNextWrite() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, run) = try Self.packedCatsAndDogs(in: dir)
        #expect(try runDataprep(Self.oneEpoch(shards, run), environment: Self.passive).status == 0)
        // A process that has ended: its pid names a temporary file nobody will finish.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let onnx = dir.appendingPathComponent("model.onnx").path
        let stale = onnx + ".tmp-\(gone.processIdentifier)", alive = onnx + ".tmp-1"  // pid 1 runs
        for path in [stale, alive] { try Data("half".utf8).write(to: URL(fileURLWithPath: path)) }
        #expect(try runDataprep(["export", "--model", run, "--out", onnx]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: alive))
    }

    @Test func theSchedulersVariablesAreReadStrictly() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        try PackCommandTests.makeDataset(
            at: URL(fileURLWithPath: data), classes: ["a", "b"], count: 2, size: PixelSize(width: 16, height: 12))
        func pack(_ part: String, _ environment: [String: String]) throws -> CommandResult {
            try runDataprep(
                ["pack", data, "--size", "8x6", "--out", dir.appendingPathComponent("p-\(UUID())").path, "--part", part],
                environment: environment)
        }
        for (part, environment, named) in [
            ("2", ["JOB_COMPLETION_INDEX": " 1"], "JOB_COMPLETION_INDEX"), ("2", ["JOB_COMPLETION_INDEX": "1 "], "JOB_COMPLETION_INDEX"),
            ("auto", ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "abc", "SLURM_ARRAY_TASK_COUNT": "2"], "SLURM_ARRAY_TASK_MIN"),
            ("auto", ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "+2"], "SLURM_ARRAY_TASK_COUNT"),
            ("auto", ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_STEP": "0", "SLURM_ARRAY_TASK_COUNT": "2"], "SLURM_ARRAY_TASK_STEP"),
            ("auto", ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "2"], "SLURM_ARRAY_TASK_STEP"),
        ] {
            let result = try pack(part, environment)
            #expect(result.status == 64 && result.stderr.contains(named), "\(environment): \(result.stderr)")
        }
        // --array=0-2:2 runs tasks 0 and 2: task 2 is part 1 of 2.
        let stepped = try pack(
            "auto", ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(stepped.status == 0, "\(stepped.stderr)")
    }

    @Test func foundationsErrorCodesNeverReachTheUser() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 1, size: PixelSize(width: 16, height: 12))
        try Data("not a jpeg".utf8).write(to: data.appendingPathComponent("cats/bad.jpg"))
        let file = dir.appendingPathComponent("quarantine").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let scan = try runDataprep(["scan", data.path, "--quarantine", file])
        #expect(scan.status == 1 && scan.stderr.contains("not a folder") && !scan.stderr.contains("NSCocoaErrorDomain"), "\(scan.stderr)")
        let run = dir.appendingPathComponent("run").path
        try FileManager.default.createDirectory(atPath: run + "/final-weights.dpw", withIntermediateDirectories: true)
        let export = try runDataprep(["export", "--model", run, "--out", dir.path + "/m.onnx"])
        #expect(
            export.status == 1 && export.stderr.contains("not a regular file") && !export.stderr.contains("NSCocoaErrorDomain"),
            "\(export.stderr)")
    }
}
