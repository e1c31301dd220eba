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
        /// Try direct I/O (`O_DIRECT` on Linux): writes bypass the page cache. Where the file
        /// system refuses it, the file opens without it (``isDirect`` says which). While direct,
        /// the caller's writes must be whole aligned blocks (``directBlock``).
        public static let directIO = Options(rawValue: 1 << 4)
    }

    /// Under direct I/O, buffer addresses, offsets and lengths are multiples of this many bytes.
    public static let directBlock = 4096

    /// The path it was opened at.
    public let path: String
    private var fd: Int32
    /// Whether writes bypass the page cache now (``Options/directIO`` taken by the file system
    /// and not turned off since).
    public private(set) var isDirect = false

    /// Opens `path` for writing, creating it with `permissions` when missing; an existing file is
    /// truncated unless `options` hold ``Options/exclusive`` or ``Options/keepContents``.
    /// - Throws: ``SupportError`` `fileSystem` (with the errno, e.g. `EEXIST` under
    ///   ``Options/exclusive``).
    public init(creating path: String, options: Options = [], permissions: UInt32 = 0o644) throws(SupportError) {
        self.path = path
        var flags = O_CREAT | O_CLOEXEC | (options.contains(.readable) ? O_RDWR : O_WRONLY)
        if options.contains(.exclusive) { flags |= O_EXCL } else if !options.contains(.keepContents) { flags |= O_TRUNC }
        if options.contains(.noFollow) { flags |= O_NOFOLLOW }
        fd = -1
        if options.contains(.directIO) && Self.directFlag != 0 {
            fd = open(path, flags | Self.directFlag, mode_t(permissions))
            isDirect = fd >= 0
        }
        if fd < 0 { fd = open(path, flags, mode_t(permissions)) }
        guard fd >= 0 else { throw .system("cannot create", path: path) }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    // MARK: - Reading and writing

    /// Appends all of `bytes`, or writes them at `offset` from the start of the file. Under
    /// direct I/O, a write the file system refuses (`EINVAL`) or takes only in part turns direct
    /// I/O off for the rest of the file, and the rest goes through the page cache.
    /// - Throws: ``SupportError`` `fileSystem`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int? = nil) throws(SupportError) {
        var done = 0
        if isDirect, let offset, !bytes.isEmpty {
            var n: Int
            repeat { n = pwrite(fd, bytes.baseAddress!, bytes.count, off_t(offset)) } while n < 0 && errno == EINTR
            if n == bytes.count { return }
            if n < 0 && errno != EINVAL { throw .system("cannot write", path: path) }
            done = max(n, 0)
            try endDirectIO()
        }
        try FileIO.writeAll(UnsafeRawBufferPointer(rebasing: bytes[done...]), to: fd, at: offset.map { $0 + done }, path: path)
    }

    /// Turns direct I/O off for the rest of the file (the last, partial block of a file goes
    /// through the page cache).
    /// - Throws: ``SupportError`` `fileSystem`.
    public func endDirectIO() throws(SupportError) {
        guard isDirect else { return }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~Self.directFlag) == 0 else {
            throw .system("cannot turn off direct I/O", path: path)
        }
        isDirect = false
    }

    /// `O_DIRECT`, which Glibc's Swift module does not export (C declares it only under
    /// `_GNU_SOURCE`): Linux's value on this architecture, or 0 (no direct I/O) elsewhere.
    private static let directFlag: Int32 = {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return 0
        #endif
    }()

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
        _ = Self.syncFileRange?(fd, Int64(offset), Int64(length), 2)  // SYNC_FILE_RANGE_WRITE
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
