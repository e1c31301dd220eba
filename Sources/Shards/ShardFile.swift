import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor opened for writing, with POSIX errors turned into ``ShardError`` `fileSystem`.
final class ShardFile {
    let path: String
    private var fd: Int32

    /// Creates (or truncates) `path`.
    init(creating path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error("cannot create", path) }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Appends all of `bytes` (or writes them at `offset`).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int? = nil) throws {
        var done = 0
        while done < bytes.count {
            let n = offset.map { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t($0 + done)) }
                ?? Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.error("cannot write", path) }
            done += n
        }
    }

    /// Asks the kernel to start writing `length` bytes at `offset` to disk now, without waiting, so
    /// the final fsync has little left to do (Linux `sync_file_range`; a no-op elsewhere).
    func startWriteback(offset: Int, length: Int) {
        _ = Self.syncFileRange?(fd, Int64(offset), Int64(length), 2 /* SYNC_FILE_RANGE_WRITE */)
    }

    /// `sync_file_range(2)`, looked up at run time: Glibc's Swift module does not export it (it is
    /// declared only under _GNU_SOURCE).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    func sync() throws {
        guard fsync(fd) == 0 else { throw Self.error("cannot fsync", path) }
    }

    func close() throws {
        guard fd >= 0 else { return }
        let status = Glibc.close(fd)
        fd = -1
        guard status == 0 else { throw Self.error("cannot close", path) }
    }

    /// Renames within one folder and fsyncs the folder, so the new name survives a crash.
    static func rename(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else { throw error("cannot rename \(source) to", destination) }
        let folder = open((destination as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            Glibc.close(folder)
        }
    }

    /// Writes `data` to a temporary file, fsyncs it and renames it over `path`.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temporary = path + ".partial"
        let file = try ShardFile(creating: temporary)
        try data.withUnsafeBytes { try file.write($0) }
        try file.sync()
        try file.close()
        try rename(temporary, to: path)
    }

    private static func error(_ what: String, _ path: String) -> ShardError {
        ShardError(.fileSystem, "\(what): \(String(cString: strerror(errno)))", file: path)
    }
}
