import Foundation
public import Shards
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Hostile and damaged shard sets: a complete set altered in one way each (its manifest's counts,
/// sizes, class list, shard names, or a shard crafted with valid checksums), with the code every
/// reader must refuse it with. The Swift reader (`ShardDamageTests`), the command line
/// (`NumericOptionRobustnessTests`) and the Python reader (`python/tests/test_reader.py`, through
/// `PythonReaderTests`) are held to the same list, so they refuse the same sets the same way.
public enum ManifestDamage {
    /// One alteration.
    public struct Case: Sendable {
        /// What is altered, for messages and folder names.
        public var name: String
        /// The code opening the altered set throws; nil when it opens.
        public var open: ShardError.Code?
        /// The code reading every record of the opened set (``ShardSet/verify()``) throws; nil when
        /// it passes. Only meaningful when `open` is nil.
        public var verify: ShardError.Code?
        fileprivate let alter: @Sendable (String) throws -> Void

        /// Alters the complete set in `folder` (at least two shards, source ids, 2+ classes).
        public func apply(to folder: String) throws { try alter(folder) }
    }

    /// Every case.
    public static let cases: [Case] = [
        json("copies 0", .manifestMismatch) { $0["copies"] = 0 },
        json("copies 3 on a one-copy set", .manifestMismatch) { $0["copies"] = ($0["copies"] as! Int) * 3 },
        json("imagesPerCopy -1", .manifestMismatch) { $0["imagesPerCopy"] = -1 },
        json("imagesPerCopy smaller than the set", .manifestMismatch) { $0["imagesPerCopy"] = ($0["imagesPerCopy"] as! Int) - 1 },
        json("classNames empty", .manifestMismatch) { $0["classNames"] = [String]() },
        json("count 0 with shards", .manifestMismatch) { $0["count"] = 0 },
        json("count 0 without shards", .manifestMismatch) {
            $0["count"] = 0
            $0["shards"] = [Any]()
        },
        json("count 1e12", .manifestMismatch) { $0["count"] = 1e12 },
        literal("count NaN", .manifestMismatch, "NaN") { $0["count"] = marker },
        json("shard ../x.dps", .manifestMismatch) { shard(&$0) { $0["file"] = "../x.dps" } },
        json("shard /etc/passwd", .manifestMismatch) { shard(&$0) { $0["file"] = "/etc/passwd" } },
        json("shard sub/x.dps", .manifestMismatch) { shard(&$0) { $0["file"] = "sub/x.dps" } },
        json("shard manifest.json", .manifestMismatch) { shard(&$0) { $0["file"] = "manifest.json" } },
        json("shard named twice", .manifestMismatch) { manifest in
            var shards = manifest["shards"] as! [[String: Any]]
            shards[1]["file"] = shards[0]["file"]
            manifest["shards"] = shards
        },
        json("shard count 0", .manifestMismatch) { shard(&$0) { $0["count"] = 0 } },
        json("shard bytes + 1", .manifestMismatch) { shard(&$0) { $0["bytes"] = ($0["bytes"] as! Int) + 1 } },
        json("shard digest in upper case", .manifestMismatch) { shard(&$0) { $0["digest"] = "ABCDEF0123456789" } },
        json("class name with a newline", .manifestMismatch) { className(&$0, "cats\nforged 1.0000") },
        json("class name with a tab", .manifestMismatch) { className(&$0, "cats\tdogs") },
        json("class name with a carriage return", .manifestMismatch) { className(&$0, "cats\r") },
        json("class name twice", .manifestMismatch) { manifest in
            let names = manifest["classNames"] as! [String]
            manifest["classNames"] = [names[0], names[0]] + names.dropFirst(2)
        },
        json("class names equal up to Unicode normalisation", .manifestMismatch) { manifest in
            let names = manifest["classNames"] as! [String]
            manifest["classNames"] = ["caf\u{E9}", "cafe\u{301}"] + names.dropFirst(2)
        },
        json("split with a slash", .manifestMismatch) { $0["split"] = "../train" },
        json("spec width 0", .manifestMismatch) { spec(&$0) { $0["width"] = 0 } },
        json("spec channels 2", .manifestMismatch) { spec(&$0) { $0["channels"] = 2 } },
        json("spec rescale 0", .manifestMismatch) { spec(&$0) { $0["rescale"] = 0 } },
        json("spec rescale 1e300", .manifestMismatch) { spec(&$0) { $0["rescale"] = 1e300 } },
        json("spec resize bicubic", .manifestMismatch) { spec(&$0) { $0["resize"] = "bicubic" } },
        json("spec width 1e12", .manifestMismatch) { spec(&$0) { $0["width"] = 1_000_000_000_000 } },
        json("layout stride - 8", .manifestMismatch) { layout(&$0) { $0["stride"] = ($0["stride"] as! Int) - 8 } },
        json("layout parameterCount 1e6", .manifestMismatch) { layout(&$0) { $0["parameterCount"] = 1_000_000 } },
        json("one parameter name too many", .manifestMismatch) {
            $0["parameterNames"] = ($0["parameterNames"] as! [String]) + ["extra"]
        },
        json("format other", .manifestMismatch) { $0["format"] = "other" },
        json("formatVersion 3", .unsupportedVersion) { $0["formatVersion"] = 3 },
        json("formatVersion as a string", .manifestMismatch) { $0["formatVersion"] = "2" },
        json("no provenance", .manifestMismatch) { $0["provenance"] = nil },
        json("part 5 of 2", .manifestMismatch) {
            $0["part"] = ["index": 5, "count": 2, "firstItem": 0, "items": 1, "totalItems": 2, "shardBytes": 1024]
        },
        literal("copies as the integral float 1.0", nil, "1.0") { $0["copies"] = marker },
        json("an empty set", nil) {
            $0["count"] = 0
            $0["imagesPerCopy"] = 0
            $0["shards"] = [Any]()
        },
        Case(name: "manifest.json is a FIFO", open: .manifestMismatch, verify: nil) { folder in
            unlink(folder + "/manifest.json")
            guard mkfifo(folder + "/manifest.json", 0o644) == 0 else { throw POSIXError(.EIO) }
        },
        Case(name: "a shard is a FIFO", open: .fileSystem, verify: nil) { folder in
            let file = try firstShardFile(folder)
            unlink(folder + "/" + file)
            guard mkfifo(folder + "/" + file, 0o644) == 0 else { throw POSIXError(.EIO) }
        },
        Case(name: "a shard longer than the manifest says", open: .manifestMismatch, verify: nil) { folder in
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/" + (try firstShardFile(folder))))
            try handle.seekToEnd()
            try handle.write(contentsOf: [UInt8](repeating: 0, count: 8))
            try handle.close()
        },
        Case(name: "a label outside the class list, checksums recomputed", open: nil, verify: .manifestMismatch) { folder in
            try craftFirstShard(in: folder) { bytes, layout, count in
                let offset = 128 + (count - 1) * layout.stride + layout.labelOffset  // the shard's last record
                withUnsafeBytes(of: Int32(1_000_000).littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
            }
        },
        Case(name: "a header count of 2^62, header checksum recomputed", open: .badHeader, verify: nil) { folder in
            try craftFirstShard(in: folder) { bytes, _, _ in
                withUnsafeBytes(of: UInt64(1 << 62).littleEndian) { bytes.replaceSubrange(16..<24, with: $0) }
            }
        },
    ]

    // MARK: Alterations

    private static func json(_ name: String, _ code: ShardError.Code?, _ edit: @escaping @Sendable (inout [String: Any]) -> Void) -> Case {
        Case(name: name, open: code, verify: nil) { folder in
            let path = folder + "/manifest.json"
            var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            edit(&manifest)
            try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]).write(
                to: URL(fileURLWithPath: path))
        }
    }

    /// A number no manifest holds, written where ``literal(_:_:_:_:)`` puts its JSON text.
    private static let marker = 987_654_321

    /// `edit` puts ``marker`` where `literal` (JSON text that JSONSerialization does not write,
    /// such as `NaN` or `1.0`) goes.
    private static func literal(
        _ name: String, _ code: ShardError.Code?, _ literal: String, _ edit: @escaping @Sendable (inout [String: Any]) -> Void
    ) -> Case {
        Case(name: name, open: code, verify: nil) { folder in
            let path = folder + "/manifest.json"
            var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            edit(&manifest)
            let text = String(
                decoding: try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
            try Data(text.replacingOccurrences(of: "\(marker)", with: literal).utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    private static func shard(_ manifest: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var shards = manifest["shards"] as! [[String: Any]]
        edit(&shards[0])
        manifest["shards"] = shards
    }

    private static func spec(_ manifest: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var spec = manifest["spec"] as! [String: Any]
        edit(&spec)
        manifest["spec"] = spec
    }

    private static func layout(_ manifest: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var layout = manifest["layout"] as! [String: Any]
        edit(&layout)
        manifest["layout"] = layout
    }

    private static func className(_ manifest: inout [String: Any], _ name: String) {
        var names = manifest["classNames"] as! [String]
        names[0] = name
        manifest["classNames"] = names
    }

    private static func firstShardFile(_ folder: String) throws -> String {
        let manifest =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))) as! [String: Any]
        return (manifest["shards"] as! [[String: Any]])[0]["file"] as! String
    }

    /// Rewrites the first shard with `edit` (its bytes, the set's layout, its sample count), then
    /// recomputes what a forger would: every record checksum, the shard digest, the header's own
    /// checksum, and the manifest's digest, so only the reader's own checks can refuse it.
    private static func craftFirstShard(
        in folder: String, _ edit: (inout [UInt8], RecordLayout, Int) -> Void
    ) throws {
        let manifestPath = folder + "/manifest.json"
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as! [String: Any]
        var shards = manifest["shards"] as! [[String: Any]]
        let file = shards[0]["file"] as! String, count = shards[0]["count"] as! Int
        let layout = try JSONDecoder().decode(RecordLayout.self, from: JSONSerialization.data(withJSONObject: manifest["layout"]!))
        let path = folder + "/" + file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        edit(&bytes, layout, count)
        let table = 128 + count * layout.stride
        for record in 0..<count {
            let start = 128 + record * layout.stride
            let hash = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[start..<start + layout.stride])) }
            withUnsafeBytes(of: hash.littleEndian) { bytes.replaceSubrange(table + 8 * record..<table + 8 * record + 8, with: $0) }
        }
        let digest = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[table..<table + 8 * count])) }
        withUnsafeBytes(of: digest.littleEndian) { bytes.replaceSubrange(72..<80, with: $0) }
        let check = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        withUnsafeBytes(of: check.littleEndian) { bytes.replaceSubrange(120..<128, with: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        shards[0]["digest"] = String(format: "%016llx", digest)
        manifest["shards"] = shards
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys]).write(
            to: URL(fileURLWithPath: manifestPath))
    }
}
