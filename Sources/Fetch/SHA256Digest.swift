import Crypto
import Foundation
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
    /// - Throws: ``FetchError`` `fileSystem` when the file cannot be read.
    public static func ofFile(at path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystem.errnoError("cannot open", path: path) }
        defer { close(fd) }
        var digest = SHA256Digest()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        while true {
            let n = read(fd, chunk.baseAddress, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw FileSystem.errnoError("cannot read", path: path) }
            if n == 0 { return digest.hex() }
            digest.update(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
        }
    }
}
