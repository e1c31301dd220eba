import Foundation
import Shards

/// Sample i's image: every byte a function of (i, position), so any misplaced byte shows.
func syntheticImage(_ i: Int, bytes: Int) -> [UInt8] {
    (0..<bytes).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0 &* 7) }
}

let provenance = ShardManifest.Provenance(dataset: "synthetic", tool: "dataprep test", options: ["size": "6x5"], seed: 9)

/// Writes `count` synthetic samples (label i % classes, source i, parameters [i, -i/2]) of 6×5×3
/// (or `spec`).
@discardableResult
func writeSyntheticSet(
    at directory: String, count: Int, classes: Int = 3, copies: Int = 1, maxSamples: Int? = 7,
    spec: ImageSpec = ImageSpec(width: 6, height: 5, channels: 3)
) throws -> ShardManifest {
    let writer = try ShardWriter(
        directory: directory, split: "train", spec: spec, hasSource: true, parameterCount: 2,
        rotation: .init(maxSamples: maxSamples))
    let layout = writer.layout
    for i in 0..<count {
        try syntheticImage(i, bytes: layout.imageBytes).withUnsafeBytes {
            try writer.append(
                image: $0, label: i % classes, source: layout.sourceOffset == nil ? nil : UInt32(i),
                parameters: layout.parameterCount == 2 ? [Float(i), -Float(i) / 2] : [])
        }
    }
    return try writer.finish(
        classNames: (0..<classes).map { "class\($0)" },
        parameterNames: layout.parameterCount == 2 ? ["theta", "tx"] : [], copies: copies,
        sources: layout.sourceOffset == nil ? [] : (0..<count).map { "img\($0).jpg" },
        provenance: provenance)
}

/// Flips one byte of a file.
func flipByte(in path: String, at offset: Int) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try handle.read(upToCount: 1)![0]
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: [byte ^ 0x40])
}
