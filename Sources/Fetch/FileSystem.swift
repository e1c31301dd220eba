import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File-system steps every part of Fetch shares: atomic writes, durable renames, errno as
/// ``FetchError``.
enum FileSystem {
    /// A ``FetchError/Code/fileSystem`` error carrying `strerror(errno)`.
    static func errnoError(_ what: String, path: String) -> FetchError {
        FetchError(.fileSystem, "\(what): \(String(cString: strerror(errno)))", subject: path)
    }

    /// Writes `data` to `path` so that readers see either the old file or the complete new one:
    /// a temporary file in the same folder, fsynced, then renamed over `path`.
    /// - Throws: ``FetchError`` `fileSystem`.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw errnoError("cannot create", path: temporary) }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { ok = false; return }
                offset += n
            }
        }
        ok = ok && fsync(fd) == 0
        let saved = errno
        close(fd)
        guard ok else {
            errno = saved
            let error = errnoError("cannot write", path: temporary)
            unlink(temporary)
            throw error
        }
        try rename(temporary, to: path)
    }

    /// Renames `source` to `destination` (same file system), then fsyncs the destination folder so
    /// the rename survives a crash.
    /// - Throws: ``FetchError`` `fileSystem`.
    static func rename(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else {
            throw errnoError("cannot rename \(source) to \(destination)", path: destination)
        }
        let folder = open((destination as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Creates `path` and its missing parents.
    /// - Throws: ``FetchError`` `fileSystem`.
    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FetchError(.fileSystem, "cannot create folder: \(error.localizedDescription)", subject: path)
        }
    }

    /// Removes `path` and everything under it; a missing path is not an error.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
