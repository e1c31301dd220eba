import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock on a folder that a command writes (a shard set, a run folder, a dataset): the
/// file `.dataprep.lock` in it, held with `flock(2)` for the lock's life. A second writer fails at
/// once instead of interleaving its files with the first's; the kernel drops the lock when the
/// process ends, however it ends, so a stale file never blocks.
///
/// While the lock is held the file holds the owner's pid, so the second writer's error names it;
/// ``release()`` empties it. A finished folder therefore keeps an empty lock file and nothing
/// else of the run that wrote it: two identical runs leave identical folders, and a published set
/// carries no stale pid. (The file stays rather than going: removing it would let a third process
/// lock a new file while a second still waits on the old one.)
public final class FolderLock {
    /// The lock file's name inside the folder.
    public static let fileName = ".dataprep.lock"

    /// The locked folder.
    public let folder: String
    private var fd: Int32

    /// Creates `folder` when missing and takes its lock.
    /// - Throws: ``SupportError`` `locked`, naming the holder's pid, when another process (or another
    ///   lock in this one) holds it; `fileSystem` when the folder or lock file cannot be created.
    public init(_ folder: String) throws(SupportError) {
        try FileIO.createFolder(folder)
        self.folder = folder
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot create the lock file", path: path) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let number = errno
            var holder = [UInt8](repeating: 0, count: 32)
            let count = holder.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            let pid = count > 0 ? String(decoding: holder[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            Glibc.close(fd)
            fd = -1
            guard number == EWOULDBLOCK else {
                throw .system("cannot lock", path: folder, errno: number)
            }
            throw SupportError(
                .locked,
                "another dataprep process\(pid.isEmpty ? "" : " (pid \(pid))") is writing here; "
                    + "wait for it to finish or stop it", path: folder)
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        pid.withUnsafeBytes { bytes in _ = try? FileIO.writeAll(bytes, to: fd, at: 0, path: path) }
    }

    deinit { release() }

    /// Empties the lock file (the pid was this run's alone) and drops the lock now (deinit does
    /// too). The empty file stays.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        Glibc.close(fd)
        fd = -1
    }
}
