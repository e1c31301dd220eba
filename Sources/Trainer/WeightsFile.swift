// The weights and checkpoint file: a 64-byte header, raw little-endian float32 arrays in Keras's
// layouts, then a JSON index, so numpy reads it with `np.frombuffer` and Keras takes the arrays
// with `model.set_weights`. A checkpoint adds the optimizer's arrays, its step count and the epoch.
// Files are written atomically through Support's `FileIO.writeAtomically(to:)`: a temporary file in
// the same folder, fsync, rename, fsync of the folder. The layout is documented on `WeightsFile`.
import Foundation
import Shards
import Support

// MARK: - Format

/// The file format, version 1 (all integers little-endian):
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 8 | magic `DPWEIGHT` |
/// | 8 | 4 | format version (1), uint32 |
/// | 12 | 4 | index length L in bytes, uint32 |
/// | 16 | 8 | index offset I, uint64 |
/// | 24 | 8 | XXH64 (seed 0) of the L index bytes, uint64 |
/// | 32 | 32 | zero |
/// | 64 | … | the arrays, each at its `offset` (a multiple of 64): float32, row-major (C order), zero padding to the next multiple of 64 |
/// | I | L | the index: UTF-8 JSON, described below |
///
/// The index: `{"format": "dataprep-weights", "kind": "weights" | "checkpoint", "model": {...},
/// "arrays": [...], "optimizer": {...}, "epoch": N}`. `model` holds `architecture` (a layer-spec
/// string), `input` ([height, width, channels]), `spec` (the model's input image spec, as a shard
/// manifest's `spec`: `width`, `height`, `channels`, `resize` — `bilinear`, `nearest` or
/// `keras-nearest` — and `rescale`; absent in files written before it was recorded, which are read
/// as `input` with `bilinear` and 1/255), `classes`, `loss`, `imageLayout`, `seed`, `classNames`,
/// and, when they apply, `storedSpec` (the spec of the shards the input was resampled from, when
/// their size differs), `augmentation` (the fresh augmentation options, option → value) and `run`
/// (the options of the run that trained it, option → value, defaults included). Each
/// array entry holds `name`, `shape`, `layout`, `offset` (from the start of the file) and `xxh64`
/// (of its bytes, 16 hex digits). Parameter arrays are named and laid out as in Keras
/// (`conv2d/kernel`, `dense_1/bias`): convolution kernels HWIO (kh, kw, in, out), dense kernels
/// (in, out), with the rows of a dense layer after a flatten in Keras's (h, w, c) order. A
/// checkpoint's `optimizer` holds `name`, `config` (Keras's hyper-parameter names),
/// `learningRate` (the current one) and `iterations`; its state arrays are
/// `optimizer/<slot>/<parameter>` in the parameter's layout (slots: Adam `momentum`, `velocity`;
/// RMSprop `velocity` [, `momentum`]; SGD `momentum` when momentum ≠ 0).
enum WeightsFile {
    static let magic = Array("DPWEIGHT".utf8)
    static let version: UInt32 = 1
    static let headerSize = 64
    static let formatName = "dataprep-weights"

    struct Index: Codable {
        var format: String
        var kind: Kind
        var model: ModelRecord
        var arrays: [ArrayRecord]
        var optimizer: OptimizerRecord?
        var epoch: Int?
    }

    enum Kind: String, Codable {
        case weights, checkpoint
    }

    struct ModelRecord: Codable {
        var architecture: String
        /// [height, width, channels], for readers that do not know ``ImageSpec``.
        var input: [Int]
        /// The input image spec (absent in files written before it was recorded).
        var spec: ImageSpec?
        var classes: Int
        var loss: String
        var imageLayout: String
        var seed: UInt64
        /// Class names in label order (absent in files written before they were recorded).
        var classNames: [String]?
        /// The stored images' spec when the input is resampled from another size (absent otherwise).
        var storedSpec: ImageSpec?
        /// The fresh augmentation options the model was trained with (absent: none).
        var augmentation: [String: String]?
        /// The options of the run that trained it (absent in files written before they were recorded).
        var run: [String: String]?
    }

    struct ArrayRecord: Codable {
        var name: String
        var shape: [Int]
        var layout: String
        var offset: Int
        var xxh64: String
    }

    struct OptimizerRecord: Codable {
        var name: String
        var config: [String: Double]
        var learningRate: Float
        var iterations: Int
    }

    /// An array to write.
    struct Payload {
        var name: String
        var shape: [Int]
        var layout: String
        /// Gives the values in file order. Called once, while writing, and only after the previous
        /// payload's values have been written, so payloads may share a scratch buffer.
        var values: () -> UnsafeBufferPointer<Float>
    }

    // MARK: Writing

    /// Writes `index` (whose `arrays` are replaced) and `payloads` to `path` atomically: the arrays
    /// first, hashed as they go, then the index, then the header that points to it.
    /// - Throws: ``TrainerError`` `fileSystem` naming the path and the system's reason.
    static func write(_ index: Index, payloads: [Payload], to path: String) throws {
        var index = index
        index.arrays = []
        try writeAtomically(to: path) { file in
            var offset = headerSize
            try file.write([UInt8](repeating: 0, count: headerSize))
            for payload in payloads {
                let bytes = UnsafeRawBufferPointer(payload.values())
                index.arrays.append(
                    ArrayRecord(
                        name: payload.name, shape: payload.shape, layout: payload.layout, offset: offset,
                        xxh64: String(format: "%016llx", XXHash64.hash(bytes))))
                let padded = (bytes.count + 63) / 64 * 64
                try file.write(bytes)
                try file.write([UInt8](repeating: 0, count: padded - bytes.count))
                offset += padded
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let json: [UInt8]
            do { json = Array(try encoder.encode(index)) } catch {
                throw TrainerError(.fileSystem, "\(path): cannot encode the index: \(error)")
            }
            try file.write(json)
            var header = magic
            append(version, to: &header)
            append(UInt32(json.count), to: &header)
            append(UInt64(offset), to: &header)
            append(json.withUnsafeBytes { XXHash64.hash($0) }, to: &header)
            try file.write(header, at: 0)
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    // MARK: Reading

    /// A file read and checked: its index and its arrays by name.
    struct Contents {
        let index: Index
        private let data: Data
        private let records: [String: ArrayRecord]

        fileprivate init(index: Index, data: Data) {
            self.index = index
            self.data = data
            records = Dictionary(index.arrays.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }

        /// Checks that the file has every array of `arrays` (name, shape), before anything is copied.
        /// - Throws: ``TrainerError`` `incompatibleWeights` naming the first that is missing or
        ///   shaped otherwise.
        func require(_ arrays: [(name: String, shape: [Int])]) throws {
            for (name, shape) in arrays {
                guard let record = records[name] else {
                    throw TrainerError(
                        .incompatibleWeights,
                        "the file has no array '\(name)'; it was written for another architecture (\(index.model.architecture))")
                }
                guard record.shape == shape else {
                    throw TrainerError(.incompatibleWeights, "'\(name)' is \(record.shape) in the file but \(shape) in the model")
                }
            }
        }

        /// Calls `body` with the values of the array `name`, which must have `shape`.
        /// - Throws: ``TrainerError`` `incompatibleWeights` when the file has no such array or its
        ///   shape is another.
        func withValues(_ name: String, shape: [Int], _ body: (UnsafePointer<Float>) -> Void) throws {
            try require([(name, shape)])
            let record = records[name]!
            data.withUnsafeBytes { bytes in
                // Offsets are multiples of 64 and the bytes were checked to be in the file.
                body((bytes.baseAddress! + record.offset).assumingMemoryBound(to: Float.self))
            }
        }
    }

    /// Reads and checks `path`: magic, version, index checksum and JSON, and every array's bounds
    /// and checksum.
    /// - Throws: ``TrainerError`` `fileSystem` when it cannot be read, `badWeightsFile` naming what
    ///   is wrong.
    static func read(_ path: String) throws -> Contents {
        let data: Data
        do throws(SupportError) { data = try FileIO.mapFile(at: path) } catch {
            throw TrainerError(.fileSystem, "\(path): \(error.message)")
        }
        func bad(_ text: String) -> TrainerError { TrainerError(.badWeightsFile, "\(path): \(text)") }
        guard data.count >= headerSize, Array(data.prefix(8)) == magic else {
            throw bad("not a dataprep weights file (no DPWEIGHT magic)")
        }
        func integer<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        }
        let fileVersion = integer(8, UInt32.self)
        guard fileVersion == version else { throw bad("format version \(fileVersion); this build reads version \(version)") }
        let indexLength = Int(integer(12, UInt32.self)), indexOffset = Int(integer(16, UInt64.self))
        guard indexOffset >= headerSize, indexOffset <= data.count, indexLength <= data.count - indexOffset else {
            throw bad("the index lies past the end of the file (truncated?)")
        }
        let json = data.subdata(in: indexOffset..<indexOffset + indexLength)
        guard json.withUnsafeBytes({ XXHash64.hash($0) }) == integer(24, UInt64.self) else {
            throw bad("the index does not match its checksum: the file is damaged")
        }
        let index: Index
        do { index = try JSONDecoder().decode(Index.self, from: json) } catch {
            throw bad("the index is not valid: \(error)")
        }
        guard index.format == formatName else { throw bad("the index names format '\(index.format)', not \(formatName)") }
        try data.withUnsafeBytes { bytes in
            for record in index.arrays {
                let count = record.shape.reduce(1, *) * MemoryLayout<Float>.stride
                guard record.offset >= headerSize, record.offset % 64 == 0, count >= 0, record.offset + count <= indexOffset else {
                    throw bad("array '\(record.name)' lies outside the data section")
                }
                let hash = XXHash64.hash(UnsafeRawBufferPointer(rebasing: bytes[record.offset..<record.offset + count]))
                guard String(format: "%016llx", hash) == record.xxh64 else {
                    throw bad("array '\(record.name)' does not match its checksum: the file is damaged")
                }
            }
        }
        return Contents(index: index, data: data)
    }
}

// MARK: - Atomic files

/// Replaces `path` with what `body` writes, through Support's ``FileIO/writeAtomically(to:_:)``:
/// readers see the old file or the whole new one. The Trainer's one atomic writer (weights files,
/// checkpoints, the run folder's history and curves).
/// - Throws: ``TrainerError`` `fileSystem` naming the path and the system's reason, or what `body`
///   throws; the temporary file is removed and an existing `path` is left as it was.
func writeAtomically(to path: String, _ body: (OutputFile) throws -> Void) throws {
    do {
        try FileIO.writeAtomically(to: path, body)
    } catch let error as SupportError {
        throw TrainerError(error)
    }
}

/// ``writeAtomically(to:_:)`` with `text` (UTF-8) as the contents.
/// - Throws: ``TrainerError`` `fileSystem` naming the path and the system's reason.
func writeAtomically(_ text: String, to path: String) throws {
    do throws(SupportError) {
        try FileIO.writeAtomically(Array(text.utf8), to: path)
    } catch {
        throw TrainerError(error)
    }
}
