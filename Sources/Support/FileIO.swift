public import Foundation

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Whole files

/// The file steps every module shares: whole reads and writes that retry short transfers and
/// `EINTR`, atomic replacement (a temporary file in the same folder, fsynced, renamed, the folder
/// fsynced), and durable renames. Every failure is a ``SupportError`` naming the path.
public enum FileIO {
    /// The temporary name an atomic write of `path` uses: `path.tmp-PID` in the same folder, so the
    /// rename stays on one file system and two processes never share a temporary file.
    public static func temporaryPath(for path: String) -> String { "\(path).tmp-\(getpid())" }

    /// Writes all of `bytes` to `fd` at its current offset, or at `offset` with `pwrite`.
    /// - Throws: ``SupportError`` `fileSystem` naming `path`.
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: Int? = nil, path: String) throws(SupportError) {
        var done = 0
        while done < bytes.count {
            let n =
                offset.map { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t($0 + done)) }
                ?? write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { errno = EIO }
                throw .system("cannot write", path: path)
            }
            done += n
        }
    }

    /// Reads up to `count` bytes from `fd` at `offset` into `buffer`; fewer only at the end of the file.
    /// - Returns: the bytes read.
    /// - Throws: ``SupportError`` `fileSystem` naming `path`.
    public static func readAll(
        from fd: Int32, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws(SupportError)
        -> Int
    {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .system("cannot read", path: path) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Asks the kernel to start reading the files at `paths` into the page cache, without waiting
    /// (`posix_fadvise(WILLNEED)`), so that reading them later does not wait for the disk. A hint:
    /// files that cannot be opened are passed over; nothing is returned or thrown.
    public static func prefetch(_ paths: some Sequence<String>) {
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            #if canImport(Glibc)
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
            #endif
            _ = close(fd)
        }
    }

    /// The whole regular file at `path`.
    /// - Parameter limit: the largest size accepted, in bytes.
    /// - Throws: ``SupportError`` `fileSystem` (cannot open or read; not a regular file) or
    ///   `tooLarge` (over `limit`), naming `path`.
    public static func readFile(at path: String, limit: Int = Int.max) throws(SupportError) -> [UInt8] {
        let fd = try openRegularFile(at: path)
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system("cannot stat", path: path) }
        let size = Int(status.st_size)
        guard size <= limit else {
            throw SupportError(.tooLarge, "\(size) bytes is over the limit of \(limit) bytes", path: path)
        }
        var failure: SupportError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            do throws(SupportError) {
                // A file that shrank while it was read gives what is there.
                initialized = try readAll(from: fd, at: 0, into: UnsafeMutableRawBufferPointer(buffer), path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Opens the regular file at `path` for reading, never waiting: the open is non-blocking, so a
    /// FIFO (or a device) given where a file is expected is refused at once, naming what it is,
    /// instead of waiting forever for a writer. Every file dataprep reads whole is opened here.
    /// - Returns: the descriptor (blocking again), which the caller closes.
    /// - Throws: ``SupportError`` `fileSystem`: cannot open (with the system's reason), or not a
    ///   regular file (`a FIFO`, `a folder`, ...).
    public static func openRegularFile(at path: String) throws(SupportError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .system("cannot open", path: path) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let error = SupportError.system("cannot stat", path: path)
            close(fd)
            throw error
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw SupportError(.fileSystem, "not a regular file: it is \(kindDescription(status.st_mode))", path: path)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// `a FIFO`, `a folder`, `a socket`, `a device`: what a file-system entry of `mode` is, for messages.
    public static func kindDescription(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFLNK: "a symbolic link"
        default: "not a file"
        }
    }

    /// The regular file at `path`, memory-mapped read-only (an empty file gives empty data); opened
    /// as ``openRegularFile(at:)`` opens it, so a FIFO or folder is refused at once.
    /// - Throws: ``SupportError`` `fileSystem` naming `path` and the system's reason.
    public static func mapFile(at path: String) throws(SupportError) -> Data {
        let fd = try openRegularFile(at: path)
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system("cannot stat", path: path) }
        let size = Int(status.st_size)
        guard size > 0 else { return Data() }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw .system("cannot map", path: path)
        }
        return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
    }

    /// Replaces `path` with what `body` writes, atomically: readers see the old file or the whole
    /// new one, never a part, and the new one survives a crash once this returns.
    /// - Throws: ``SupportError`` naming the step, or what `body` throws; the temporary file is
    ///   removed and an existing `path` is left as it was.
    public static func writeAtomically(to path: String, _ body: (OutputFile) throws -> Void) throws {
        removeStaleTemporaries(of: path)
        let temporary = temporaryPath(for: path)
        let file = try OutputFile(creating: temporary)
        do {
            try body(file)
            try file.sync()
            try file.close()
            try durableRename(temporary, to: path)
        } catch {
            try? file.close()
            unlink(temporary)
            throw error
        }
    }

    /// Removes the temporary files of `path` (``temporaryPath(for:)``) that processes which no
    /// longer run left behind: a writer killed between creating its temporary file and renaming it
    /// leaves `path.tmp-PID`, and the next atomic write of `path` removes it. A temporary file of a
    /// process that still runs (or may: one of another user) is left alone.
    public static func removeStaleTemporaries(of path: String) {
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        let prefix = (path as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }), let pid = pid_t(digits), pid > 0, pid != getpid()
            else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
        }
    }

    /// ``writeAtomically(to:_:)`` with `bytes` as the contents.
    /// - Throws: ``SupportError`` naming the step.
    public static func writeAtomically(_ bytes: some ContiguousBytes, to path: String) throws(SupportError) {
        do {
            try writeAtomically(to: path) { file in try bytes.withUnsafeBytes { try file.write($0) } }
        } catch let error as SupportError {
            throw error
        } catch {
            throw SupportError(.fileSystem, "\(error)", path: path)
        }
    }

    /// Renames `source` to `destination` (one file system), then fsyncs the destination's folder so
    /// the new name survives a crash.
    /// - Throws: ``SupportError`` `fileSystem`.
    public static func durableRename(_ source: String, to destination: String) throws(SupportError) {
        guard rename(source, destination) == 0 else { throw .system("cannot rename \(source) to it", path: destination) }
        try syncFolder(containing: destination)
    }

    /// fsyncs the folder that holds `path`, so entries created or renamed in it are on disk.
    /// - Throws: ``SupportError`` `fileSystem`.
    public static func syncFolder(containing path: String) throws(SupportError) {
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open the folder", path: folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system("cannot fsync the folder", path: folder) }
    }

    /// Creates `path` and its missing parents (mode 0755 less the umask); an existing folder, or a
    /// symbolic link to one, is fine.
    /// - Throws: ``SupportError`` `fileSystem` with the system's reason, saying which part of the
    ///   path is a file when one is (`it is a file, not a folder`, or `X is a file, not a folder`).
    public static func createFolder(_ path: String) throws(SupportError) {
        func isFolder(_ candidate: String) -> Bool {
            var status = stat()
            return stat(candidate, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
        }
        if isFolder(path) { return }
        var current = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + component
            if mkdir(current, 0o755) == 0 { continue }
            let number = errno
            guard number == EEXIST else { throw .system("cannot create the folder", path: path, errno: number) }
            guard isFolder(current) else {
                let which = current == path ? "it" : current
                throw SupportError(.fileSystem, "cannot create the folder: \(which) is a file, not a folder", path: path, errno: ENOTDIR)
            }
        }
    }

    /// Removes `path` and everything under it; a missing path is not an error.
    public static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Bytes free for an unprivileged writer on the file system that holds `path`, or would hold it
    /// (the nearest existing ancestor is asked); nil when no ancestor can be asked.
    public static func availableBytes(at path: String) -> Int? {
        var candidate = URL(fileURLWithPath: path).standardizedFileURL.path
        while true {
            var info = statvfs()
            if statvfs(candidate, &info) == 0 { return Int(info.f_bavail) * Int(info.f_frsize) }
            let parent = (candidate as NSString).deletingLastPathComponent
            guard parent != candidate, !parent.isEmpty else { return nil }
            candidate = parent
        }
    }

    /// `path` made absolute with symbolic links resolved, as far as it exists (a part that does not
    /// exist yet is appended as written): two spellings of one place give one answer.
    public static func resolvedPath(_ path: String) -> String {
        var existing = URL(fileURLWithPath: path).standardizedFileURL.path
        var missing: [String] = []
        while !exists(existing), existing != "/" {
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        let resolved = URL(fileURLWithPath: existing).resolvingSymlinksInPath().path
        return missing.reduce(resolved) { ($0 as NSString).appendingPathComponent($1) }
    }

    /// Whether `path` is `folder` or lies inside it, once both are resolved (``resolvedPath(_:)``).
    public static func isInside(_ path: String, folder: String) -> Bool {
        let inner = resolvedPath(path), outer = resolvedPath(folder)
        return inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    /// Whether `path` exists (following symbolic links).
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
