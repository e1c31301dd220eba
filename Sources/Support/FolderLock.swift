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
/// lock a new file while a second still waits on the old one.) The exception is a folder the lock
/// itself created and that holds nothing but the lock file when it is released (the run failed
/// before writing anything): that folder is removed again, so a failed run leaves nothing.
///
/// The lock file is opened without following a symbolic link (a link planted in the folder cannot
/// make the lock truncate a file elsewhere), and once locked it must still be the file at the
/// folder's `.dataprep.lock`: a lock taken on a file that was since replaced (renamed over) is
/// given up and taken again on the new one.
public final class FolderLock {
    /// The lock file's name inside the folder.
    public static let fileName = ".dataprep.lock"

    /// The locked folder.
    public let folder: String
    private var fd: Int32
    /// Whether this lock created the folder (it removes it again if nothing else was put there).
    private let createdFolder: Bool

    /// Creates `folder` when missing and takes its lock.
    /// - Throws: ``SupportError`` `locked`, naming the holder's pid, when another process (or another
    ///   lock in this one) holds it; `fileSystem` when the folder or lock file cannot be created,
    ///   or the lock file is a symbolic link or not a regular file.
    public init(_ folder: String) throws(SupportError) {
        createdFolder = !FileIO.exists(folder)
        self.folder = folder
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        var attempts = 0
        while true {
            try FileIO.createFolder(folder)  // again after a retry: a failed run may have removed it
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
            guard fd >= 0 else {
                if errno == ELOOP {
                    throw SupportError(
                        .fileSystem,
                        "the lock file \(Self.fileName) is a symbolic link; dataprep never follows it: remove the link",
                        path: folder)
                }
                throw .system("cannot create the lock file", path: path)
            }
            var status = stat()
            guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
                let kind = FileIO.kindDescription(status.st_mode)
                Glibc.close(fd)
                fd = -1
                throw SupportError(.fileSystem, "the lock file \(Self.fileName) is \(kind), not a regular file: remove it", path: folder)
            }
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                if errno == EINTR { continue }
                let number = errno
                var holder = [UInt8](repeating: 0, count: 32)
                let count = holder.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
                let pid =
                    count > 0 ? String(decoding: holder[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
                Glibc.close(fd)
                fd = -1
                guard number == EWOULDBLOCK else {
                    throw .system("cannot lock", path: folder, errno: number)
                }
                throw SupportError(
                    .locked,
                    "another dataprep process\(pid.isEmpty ? "" : " (pid \(PathComponent.escaped(pid)))") is writing here; "
                        + "wait for it to finish or stop it", path: folder)
            }
            // The file locked must still be the folder's lock file: one renamed over it (or
            // removed) since it was opened locks nothing another process would see.
            var current = stat()
            if lstat(path, &current) == 0, current.st_ino == status.st_ino, current.st_dev == status.st_dev { break }
            Glibc.close(fd)
            fd = -1
            attempts += 1
            guard attempts < 10 else {
                throw SupportError(.fileSystem, "the lock file keeps being replaced while it is locked", path: folder)
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        pid.withUnsafeBytes { bytes in _ = try? FileIO.writeAll(bytes, to: fd, at: 0, path: path) }
    }

    deinit { release() }

    /// Empties the lock file (the pid was this run's alone) and drops the lock now (deinit does
    /// too). The empty file stays, unless this lock created the folder and nothing else is in it:
    /// then the file and the folder are removed, while still locked.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        if createdFolder, (try? FileManager.default.contentsOfDirectory(atPath: folder)) == [Self.fileName] {
            let path = (folder as NSString).appendingPathComponent(Self.fileName)
            var mine = stat(), current = stat()
            if fstat(fd, &mine) == 0, lstat(path, &current) == 0, mine.st_ino == current.st_ino, mine.st_dev == current.st_dev {
                unlink(path)
                rmdir(folder)
            }
        }
        flock(fd, LOCK_UN)
        Glibc.close(fd)
        fd = -1
    }
}
