#if canImport(Glibc)
import Glibc
#endif

/// A file opened for writing: the one owner of a raw file descriptor in the package. Every call
/// retries `EINTR` and short transfers and throws ``SupportError`` naming the path; the
/// descriptor is closed on deinit if ``close()`` was not called.
public final class OutputFile {
    /// How ``init(creating:options:permissions:)`` opens the file, beyond creating it when missing.
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// Fail when the file exists (`O_EXCL`), instead of truncating it.
        public static let exclusive = Options(rawValue: 1 << 0)
        /// Keep the bytes of an existing file (no `O_TRUNC`): a download resumes into them.
        public static let keepContents = Options(rawValue: 1 << 1)
        /// Fail when the last component is a symbolic link (`O_NOFOLLOW`): an archive entry must
        /// not write through a link an earlier entry made.
        public static let noFollow = Options(rawValue: 1 << 2)
        /// Open for reading too (`O_RDWR`), to read back what was written.
        public static let readable = Options(rawValue: 1 << 3)
    }

    /// The path it was opened at.
    public let path: String
    private var fd: Int32

    /// Opens `path` for writing, creating it with `permissions` when missing; an existing file is
    /// truncated unless `options` hold ``Options/exclusive`` or ``Options/keepContents``.
    /// - Throws: ``SupportError`` `fileSystem` (with the errno, e.g. `EEXIST` under
    ///   ``Options/exclusive``).
    public init(creating path: String, options: Options = [], permissions: UInt32 = 0o644) throws(SupportError) {
        self.path = path
        var flags = O_CREAT | O_CLOEXEC | (options.contains(.readable) ? O_RDWR : O_WRONLY)
        if options.contains(.exclusive) { flags |= O_EXCL } else if !options.contains(.keepContents) { flags |= O_TRUNC }
        if options.contains(.noFollow) { flags |= O_NOFOLLOW }
        fd = open(path, flags, mode_t(permissions))
        guard fd >= 0 else { throw .system("cannot create", path: path) }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    // MARK: - Reading and writing

    /// Appends all of `bytes`, or writes them at `offset` from the start of the file.
    /// - Throws: ``SupportError`` `fileSystem`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int? = nil) throws(SupportError) {
        try FileIO.writeAll(bytes, to: fd, at: offset, path: path)
    }

    /// Appends (or writes at `offset`) all of `bytes`.
    /// - Throws: ``SupportError`` `fileSystem`.
    public func write(_ bytes: [UInt8], at offset: Int? = nil) throws(SupportError) {
        var failure: SupportError?
        bytes.withUnsafeBytes { raw in
            do throws(SupportError) { try write(raw, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end of the file. Needs
    /// ``Options/readable``.
    /// - Returns: the bytes read.
    /// - Throws: ``SupportError`` `fileSystem`.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(SupportError) -> Int {
        try FileIO.readAll(from: fd, at: offset, into: buffer, path: path)
    }

    /// Cuts or extends the file to `size` bytes (an extension reads as zeros: a sparse file's
    /// trailing hole).
    /// - Throws: ``SupportError`` `fileSystem`.
    public func truncate(to size: Int) throws(SupportError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw .system("cannot truncate", path: path) }
    }

    /// Sets the file's access and modification times.
    /// - Throws: ``SupportError`` `fileSystem`.
    public func setModificationTime(seconds: Int, nanoseconds: Int) throws(SupportError) {
        let time = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
        guard futimens(fd, [time, time]) == 0 else { throw .system("cannot set the time of", path: path) }
    }

    // MARK: - Durability

    /// Asks the kernel to start writing `length` bytes at `offset` to disk now, without waiting, so
    /// the final fsync has little left to do (Linux `sync_file_range`; a no-op elsewhere).
    public func startWriteback(offset: Int, length: Int) {
        _ = Self.syncFileRange?(fd, Int64(offset), Int64(length), 2 /* SYNC_FILE_RANGE_WRITE */)
    }

    /// `sync_file_range(2)`, looked up at run time: Glibc's Swift module does not export it (it is
    /// declared only under _GNU_SOURCE).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    /// Flushes the file's data to disk, and its size when it changed (`fdatasync`).
    /// - Throws: ``SupportError`` `fileSystem`.
    public func syncData() throws(SupportError) {
        guard fdatasync(fd) == 0 else { throw .system("cannot sync", path: path) }
    }

    /// Flushes the file's data and metadata to disk (`fsync`).
    /// - Throws: ``SupportError`` `fileSystem`.
    public func sync() throws(SupportError) {
        guard fsync(fd) == 0 else { throw .system("cannot fsync", path: path) }
    }

    /// Closes the descriptor (once; later calls do nothing).
    /// - Throws: ``SupportError`` `fileSystem` when the system reports a deferred write error.
    public func close() throws(SupportError) {
        guard fd >= 0 else { return }
        let status = Glibc.close(fd)
        fd = -1
        guard status == 0 else { throw .system("cannot close", path: path) }
    }
}
