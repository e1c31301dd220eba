import Crypto
import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Streaming SHA-256 (swift-crypto, BoringSSL's assembly on Linux), as lowercase hex.
public struct SHA256Digest {
    private var hasher = SHA256()

    public init() {}

    /// Adds bytes to the digest.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// The 64-character lowercase hex digest of everything added.
    public func hex() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The sha256 of a whole file, read in 1 MiB chunks (memory does not grow with the file).
    /// - Throws: ``DatasetError`` `fileSystem` when the file cannot be read or is not a regular file.
    public static func ofFile(at path: String) throws -> String {
        let fd = try DatasetError.converting { try FileIO.openRegularFile(at: path) }  // a FIFO is refused, not waited on
        defer { close(fd) }
        var digest = SHA256Digest()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        var offset = 0
        while true {
            let n = try DatasetError.converting { try FileIO.readAll(from: fd, at: offset, into: chunk, path: path) }
            digest.update(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
            offset += n
            if n < chunk.count { return digest.hex() }  // the end of the file
        }
    }
}
