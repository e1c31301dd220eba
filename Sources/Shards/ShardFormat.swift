// The `.dps` shard format, version 1: its header, record layout and checksum table are described
// once, field by field, in docs/shard-format.md. This file implements that description (a change
// here is a change to that page first); ShardManifest.swift implements the manifest it describes.

import Support

/// Where each field lives inside a record; the same for every shard of a set (docs/shard-format.md,
/// "Records").
public struct RecordLayout: Hashable, Sendable, Codable {
    /// Image height, width and channels.
    public var height: Int
    public var width: Int
    public var channels: Int
    /// Bytes from one record to the next (a multiple of 8).
    public var stride: Int
    /// Byte offset of the int32 label.
    public var labelOffset: Int
    /// Byte offset of the uint32 source id, when records carry one.
    public var sourceOffset: Int?
    /// Byte offset of the float32 parameters, when records carry them.
    public var parametersOffset: Int?
    /// Number of float32 parameters per record (0 when none).
    public var parameterCount: Int

    /// The layout for images of `height × width × channels`, with or without a source id and
    /// with `parameterCount` float32 parameters.
    public init(height: Int, width: Int, channels: Int, hasSource: Bool, parameterCount: Int) {
        self.height = height
        self.width = width
        self.channels = channels
        self.parameterCount = parameterCount
        var offset = (height * width * channels + 3) & ~3
        labelOffset = offset
        offset += 4
        sourceOffset = hasSource ? offset : nil
        if hasSource { offset += 4 }
        parametersOffset = parameterCount > 0 ? offset : nil
        offset += 4 * parameterCount
        stride = (offset + 7) & ~7
    }

    /// The layout of records holding images of `spec`.
    public init(spec: ImageSpec, hasSource: Bool, parameterCount: Int) {
        self.init(
            height: spec.height, width: spec.width, channels: spec.channels, hasSource: hasSource,
            parameterCount: parameterCount)
    }

    /// Bytes of image data per record (H·W·C).
    public var imageBytes: Int { height * width * channels }

    /// Completes a record whose first ``imageBytes`` bytes hold the image: writes the label, the
    /// source id and the parameters at their offsets and zeroes the padding, so that `record`
    /// (exactly ``stride`` bytes) is the record as a shard stores it, ready for its checksum
    /// (``XXHash64``) and ``ShardWriter/append(record:checksum:)``.
    /// - Precondition: `record.count == stride`, `parameters.count == parameterCount`, and a
    ///   source exactly when the layout has one.
    public func completeRecord(_ record: UnsafeMutableRawBufferPointer, label: Int, source: UInt32?, parameters: [Float]) {
        precondition(record.count == stride && parameters.count == parameterCount && (source != nil) == (sourceOffset != nil))
        let base = record.baseAddress!
        (base + imageBytes).initializeMemory(as: UInt8.self, repeating: 0, count: labelOffset - imageBytes)
        record.storeBytes(of: Int32(label).littleEndian, toByteOffset: labelOffset, as: Int32.self)
        var end = labelOffset + 4
        if let offset = sourceOffset, let source {
            record.storeBytes(of: source.littleEndian, toByteOffset: offset, as: UInt32.self)
            end = offset + 4
        }
        if let offset = parametersOffset {
            for (i, value) in parameters.enumerated() {
                record.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self)
            }
            end = offset + 4 * parameterCount
        }
        (base + end).initializeMemory(as: UInt8.self, repeating: 0, count: stride - end)
    }
}

/// The fixed 128-byte header at the start of every shard (docs/shard-format.md, "Header").
struct ShardHeader: Equatable {
    static let magic: [UInt8] = Array("DPSHARD".utf8) + [0]
    static let version: UInt32 = 1
    static let size = 128
    static let absent: UInt32 = 0xFFFF_FFFF

    var count: Int
    var layout: RecordLayout
    var digest: UInt64

    init(count: Int, layout: RecordLayout, digest: UInt64) {
        self.count = count
        self.layout = layout
        self.digest = digest
    }

    var dataOffset: Int { Self.size }
    var checksumTableOffset: Int { Self.size + count * layout.stride }
    /// The file size the header implies.
    var fileSize: Int { checksumTableOffset + 8 * count }

    /// The 128 header bytes.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        bytes.replaceSubrange(0..<8, with: Self.magic)
        put(Self.version, at: 8)
        put(UInt32(Self.size), at: 12)
        put(UInt64(count), at: 16)
        put(UInt32(layout.height), at: 24)
        put(UInt32(layout.width), at: 28)
        put(UInt32(layout.channels), at: 32)
        put(UInt32(layout.stride), at: 36)
        put(UInt32(layout.labelOffset), at: 40)
        put(layout.sourceOffset.map(UInt32.init) ?? Self.absent, at: 44)
        put(layout.parametersOffset.map(UInt32.init) ?? Self.absent, at: 48)
        put(UInt32(layout.parameterCount), at: 52)
        put(UInt64(dataOffset), at: 56)
        put(UInt64(checksumTableOffset), at: 64)
        put(digest, at: 72)
        let check = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        put(check, at: 120)
        return bytes
    }

    /// Parses and checks a header.
    /// - Throws: ``ShardError`` `truncated`, `badMagic`, `unsupportedVersion` or `badHeader`,
    ///   naming `file`.
    init(decoding bytes: UnsafeRawBufferPointer, file: String) throws {
        guard bytes.count >= Self.size else {
            throw ShardError(.truncated, "\(bytes.count) bytes, shorter than the \(Self.size)-byte header", file: file)
        }
        func get<T: FixedWidthInteger>(_: T.Type, _ offset: Int) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard Array(bytes[0..<8]) == Self.magic else {
            throw ShardError(.badMagic, "not a dataprep shard (no DPSHARD magic)", file: file)
        }
        let version = get(UInt32.self, 8)
        guard version == Self.version else {
            throw ShardError(.unsupportedVersion, "format version \(version); this build reads version \(Self.version)", file: file)
        }
        let check = XXHash64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<120]))
        guard check == get(UInt64.self, 120) else {
            throw ShardError(.badHeader, "header checksum mismatch: the header is damaged", file: file)
        }
        // The shape is bounded before any size is computed from it, so a crafted header (its own
        // checksum recomputed) cannot overflow an offset.
        let height = Int(get(UInt32.self, 24)), width = Int(get(UInt32.self, 28)), channels = Int(get(UInt32.self, 32))
        let parameterCount = Int(get(UInt32.self, 52))
        guard (1...ImageSpec.maximumSide).contains(height), (1...ImageSpec.maximumSide).contains(width),
            height * width <= ImageSpec.maximumPixels, channels == 1 || channels == 3,
            parameterCount <= ShardManifest.maximumParameters
        else {
            throw ShardError(.badHeader, "the header's image shape or parameter count is out of range", file: file)
        }
        let source = get(UInt32.self, 44), parameters = get(UInt32.self, 48)
        layout = RecordLayout(
            height: height, width: width, channels: channels, hasSource: source != Self.absent, parameterCount: parameterCount)
        guard let count = Int(exactly: get(UInt64.self, 16)), count <= (Int.max - Self.size) / (layout.stride + 8) else {
            throw ShardError(.badHeader, "the header's sample count \(get(UInt64.self, 16)) is out of range", file: file)
        }
        self.count = count
        digest = get(UInt64.self, 72)
        guard layout.stride == Int(get(UInt32.self, 36)), layout.labelOffset == Int(get(UInt32.self, 40)),
            layout.sourceOffset == (source == Self.absent ? nil : Int(source)),
            layout.parametersOffset == (parameters == Self.absent ? nil : Int(parameters)),
            Int(get(UInt64.self, 56)) == dataOffset, Int(get(UInt64.self, 64)) == checksumTableOffset
        else {
            throw ShardError(.badHeader, "record layout fields are inconsistent", file: file)
        }
    }
}
