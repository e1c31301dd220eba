import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Moves the bad files a scan found out of the dataset, so that training does not meet them.
public enum DatasetQuarantine {
    /// Moves every file of `report.badFiles` from the dataset root to `folder`, keeping its path
    /// relative to the root (`ROOT/train/cats/x.jpg` → `FOLDER/train/cats/x.jpg`) and creating
    /// folders as needed. A file is moved by renaming it, or by copying and deleting it when the
    /// quarantine folder is on another file system. An existing file in the quarantine folder is
    /// never overwritten: that bad file stays and is listed as failed.
    /// - Parameters:
    ///   - report: a scan report; its `root` is where the files are.
    ///   - folder: the quarantine folder. It may lie inside the dataset only under a hidden folder
    ///     (e.g. `ROOT/.quarantine`), since anything else there would be read as a split or class.
    /// - Returns: what was moved and what was not, with the system's reason.
    /// - Throws: ``DatasetError`` `badLayout` when `folder` would be part of the dataset.
    public static func moveBadFiles(of report: DatasetScanReport, to folder: String) throws -> DatasetScanReport.QuarantineOutcome {
        let folder = URL(fileURLWithPath: folder).standardizedFileURL.path
        try checkFolder(folder, datasetRoot: report.root)
        var outcome = DatasetScanReport.QuarantineOutcome(folder: folder, moved: [], failed: [])
        for file in report.badFiles {
            do {
                try move(report.root + "/" + file.path, to: folder + "/" + file.path)
                outcome.moved.append(file.path)
            } catch {
                let message = (error as? DatasetError)?.message ?? String(describing: error)
                outcome.failed.append(DatasetScanReport.Failure(path: file.path, message: message))
            }
        }
        return outcome
    }

    /// Checks that `folder` can be the quarantine folder of the dataset at `datasetRoot` (call it
    /// before a long scan to fail early): it must lie outside the dataset, or under a hidden folder
    /// of it.
    /// - Throws: ``DatasetError`` `badLayout` when `folder` is the root or a non-hidden folder under
    ///   it; `fileSystem` when it exists and is not a folder.
    public static func checkFolder(_ folder: String, datasetRoot: String) throws {
        let folder = URL(fileURLWithPath: folder).standardizedFileURL.path
        var status = stat()
        if stat(folder, &status) == 0, status.st_mode & S_IFMT != S_IFDIR {
            throw DatasetError(
                .fileSystem, "the quarantine folder is \(FileIO.kindDescription(status.st_mode)), not a folder: give a folder", path: folder
            )
        }
        let root = URL(fileURLWithPath: datasetRoot).standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard folder == root || folder.hasPrefix(prefix) else { return }
        let inside = folder.dropFirst(min(prefix.count, folder.count)).split(separator: "/").map(String.init)
        guard !inside.contains(where: DatasetDirectory.isHidden) else { return }
        throw DatasetError(
            .badLayout,
            "the quarantine folder is inside the dataset, where it would be read as a split "
                + "or class; choose a folder outside it or a hidden one (e.g. \(root)/.quarantine)",
            path: folder)
    }

    /// Moves one file, creating the destination's folders; never replaces an existing file.
    /// - Throws: ``DatasetError`` `fileSystem`.
    private static func move(_ source: String, to destination: String) throws {
        try DatasetError.converting { try FileIO.createFolder((destination as NSString).deletingLastPathComponent) }
        var existing = stat()
        guard lstat(destination, &existing) != 0 else {
            throw DatasetError(.fileSystem, "a file of that name is already in the quarantine folder", path: destination)
        }
        if Glibc.rename(source, destination) == 0 { return }
        guard errno == EXDEV else { throw DatasetError(.system("cannot move \(source)", path: destination)) }
        try copyThenDelete(source, to: destination)
    }

    /// The move across file systems: copy, then delete the original; the copy is removed again when
    /// the original cannot be deleted, so the file is never in both places.
    private static func copyThenDelete(_ source: String, to destination: String) throws {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: destination)
        } catch {
            throw DatasetError(.fileSystem, "cannot copy \(source): \(error.localizedDescription)", path: destination)
        }
        guard unlink(source) == 0 else {
            let error = DatasetError(.system("cannot delete the original after copying it", path: source))
            unlink(destination)
            throw error
        }
    }
}
