import Codecs
import Foundation
import TestSupport
import Testing

/// The shard bytes of a fixed input and seed, pinned by digest: refactors must not change what
/// `pack` and `augment` write. The digests were taken before the seams refactor (issue 10) and hold
/// after it. Validation shards of `--interpolation nearest` and `--keras-compat` runs are not
/// pinned: they changed on purpose, to follow the training set's image spec. `pack`'s digests
/// (`packed`, `packedGray`, and `corrected/validation`, which is packed the same way) changed once
/// more on purpose in issue 14, when `pack` took augment's fused sampler in place of the separable
/// triangle filter, and then with the bilinear augment digests (`corrected`, `gray`) when bilinear
/// weights became 128ths of a pixel in exact integer arithmetic (so that the AVX2 kernel gives the
/// Swift loop's bytes); `nearest` and `keras` held through both.
@Suite struct PinnedBytesTests {
    /// FNV-1a 64 over the bytes of every `.dps` file directly in `folder`, in name order.
    static func digest(of folder: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".dps") }.sorted()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for name in names {
            for byte in try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return String(format: "%016llx", hash)
    }

    /// train/{cats,dogs} of 4 photos each (two with EXIF orientations 6 and 8, one gray PNG) and
    /// validation/{cats,dogs} of 2.
    static func makeDataset(at root: URL) throws {
        let encoder = try JPEGEncoder()
        for (split, count) in [("train", 4), ("validation", 2)] {
            for (c, name) in ["cats", "dogs"].enumerated() {
                let folder = root.appendingPathComponent("\(split)/\(name)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for i in 0..<count {
                    let photo = SyntheticImages.photoLike(width: 120, height: 90, seed: UInt64(c * 100 + i + (split == "train" ? 0 : 50)))
                    var bytes = try encoder.encode(photo)
                    if split == "train" && i == 1 { bytes = JPEGFixtures.withEXIF(orientation: c == 0 ? 6 : 8, in: bytes) }
                    if split == "train" && i == 3 && c == 1 {
                        bytes = try PNGEncoder().encode(SyntheticImages.ramp(width: 70, height: 50, format: .gray, seed: 3))
                        try Data(bytes).write(to: folder.appendingPathComponent("\(i).png"))
                        continue
                    }
                    try Data(bytes).write(to: folder.appendingPathComponent("\(i).jpg"))
                }
            }
        }
    }

    static let augmentation = [
        "--size", "40x30", "--rotate", "30", "--shift", "0.1", "--shear", "10", "--zoom", "0.2", "--flip",
        "--brightness", "0.8,1.2", "--channel-shift", "20", "--copies", "3", "--seed", "7", "--threads", "2",
    ]

    @Test func packAndAugmentWriteThePinnedBytes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try Self.makeDataset(at: data)
        func run(_ arguments: [String]) throws -> String {
            let out = dir.appendingPathComponent("out-\(UUID().uuidString)").path
            let result = try runDataprep(arguments + ["--out", out])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return out
        }
        let corrected = try run(["augment", data.path] + Self.augmentation)
        let nearest = try run(["augment", data.path, "--interpolation", "nearest", "--fill", "reflect"] + Self.augmentation)
        let keras = try run(["augment", data.path, "--keras-compat"] + Self.augmentation)
        let gray = try run(["augment", data.path, "--channels", "1"] + Self.augmentation)
        let packed = try run(["pack", data.path + "/validation", "--size", "40x30", "--threads", "2"])
        let packedGray = try run(["pack", data.path + "/train", "--size", "33x47", "--channels", "1", "--threads", "1"])

        let digests = [
            "corrected": try Self.digest(of: corrected), "corrected/validation": try Self.digest(of: corrected + "/validation"),
            "nearest": try Self.digest(of: nearest), "keras": try Self.digest(of: keras), "gray": try Self.digest(of: gray),
            "packed": try Self.digest(of: packed), "packedGray": try Self.digest(of: packedGray),
        ]
        #expect(digests == Self.pinned, "\(digests.sorted { $0.key < $1.key })")
        // Nothing of the run stays beside the set: the lock file is left empty, not holding a pid.
        for out in [corrected, packed] {
            #expect(FileManager.default.contents(atPath: out + "/.dataprep.lock") == Data(), "\(out)")
        }
    }

    static let pinned: [String: String] = [
        "corrected": "27fe21385b78a3de", "corrected/validation": "79a7a1e0a1ad0d2b", "gray": "c81a749df1357dbe",
        "keras": "357f280addc5d3c0", "nearest": "875fc74459ffe99f", "packed": "79a7a1e0a1ad0d2b", "packedGray": "37e65549d2e1d787",
    ]
}
