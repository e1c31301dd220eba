#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file into memory with POSIX calls, so errors carry the system's own message
/// (for callers that need the bytes as well as the image, e.g. to hash them).
/// - Throws: ``CodecError`` `readFailed`, with `strerror`'s text and the path.
public func readFile(at path: String) throws -> [UInt8] {
    func failure(_ what: String) -> CodecError {
        CodecError(.readFailed, "\(what): \(String(cString: strerror(errno)))", path: path)
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw failure("cannot open") }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw failure("cannot stat") }
    guard (status.st_mode & S_IFMT) == S_IFREG else {
        throw CodecError(.readFailed, "not a regular file", path: path)
    }
    let size = Int(status.st_size)
    return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        while initialized < size {
            let n = read(fd, buffer.baseAddress! + initialized, size - initialized)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n < 0 { throw failure("cannot read") }
                break  // the file shrank while we read it: return what is there
            }
            initialized += n
        }
    }
}
