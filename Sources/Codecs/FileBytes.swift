import Support

/// Reads a whole file into memory (for callers that need the bytes as well as the image, e.g. to
/// hash them), refusing files larger than `limit` bytes before allocating.
/// - Throws: ``CodecError`` `readFailed` with the system's reason and the path, or `tooLarge`.
public func readFile(at path: String, limit: Int = 1 << 30) throws -> [UInt8] {
    do {
        return try FileIO.readFile(at: path, limit: limit)
    } catch {
        throw CodecError(error.code == .tooLarge ? .tooLarge : .readFailed, error.message, path: path)
    }
}
