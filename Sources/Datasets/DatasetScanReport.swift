/// What a preflight scan of a dataset folder found: what Keras's `flow_from_directory` would count,
/// which files would stop a training run, which need a conversion on the way (CMYK, gray, 16-bit,
/// alpha, palette, EXIF rotation), image sizes, byte-identical duplicates and ignored files.
///
/// Made by ``DatasetScanner/scan(_:progress:)``. Every path is relative to ``root`` (e.g.
/// `train/cats/cat.1.jpg`) and every list is sorted by path, so the same folder gives the same
/// report whatever the thread count. Encodes to JSON with the property names as keys.
public struct DatasetScanReport: Codable, Sendable, Hashable {
    /// The dataset folder, as an absolute path.
    public var root: String
    /// Image counts per split and class, in the order of ``DatasetDirectory/splits``.
    public var splits: [Split]
    /// Every class name in any split, sorted: label i is `classNames[i]`.
    public var classNames: [String]
    /// Image files in all splits (what Keras reports as found, whether they decode or not).
    public var imageCount: Int
    /// Files that cannot be used (any status whose ``FileStatus/isBad`` is true), sorted by path.
    public var badFiles: [FileIssue]
    /// Files that decode but made the decoder warn (status ``FileStatus/warning``), sorted by path.
    public var warnings: [FileIssue]
    /// How many image files of each format there are, by the bytes, never the name (`JPEG`, `PNG`,
    /// `GIF`, …, `unknown`); files that could not be read are not counted.
    public var formats: [String: Int]
    /// Decodable images whose stored form differs from plain 8-bit colour.
    public var traits: Traits
    /// Sizes of the decodable images, upright; `nil` when no image decodes.
    public var sizes: SizeStatistics?
    /// Groups of byte-identical image files (same sha256), sorted by their first path.
    public var duplicates: [DuplicateGroup]
    /// Files in class folders that are not images by name (`notes.txt`), which training ignores.
    public var ignoredFiles: [String]
    /// What ``DatasetQuarantine/moveBadFiles(of:to:)`` moved, once it has run; `nil` before.
    public var quarantine: QuarantineOutcome?

    /// Image files that decode, with or without a warning.
    public var decodableCount: Int { imageCount - badFiles.count }

    // MARK: - Counts

    /// One split (`train`, `validation`, …; the name is empty for an unsplit dataset).
    public struct Split: Codable, Sendable, Hashable {
        /// The split folder's name; empty for an unsplit dataset.
        public var name: String
        /// Image files in the split (Keras's "Found N images").
        public var imageCount: Int
        /// Its classes, sorted by name.
        public var classes: [ClassCount]
    }

    /// One class folder of a split.
    public struct ClassCount: Codable, Sendable, Hashable {
        /// The class name (the folder's name).
        public var name: String
        /// Image files in the folder and its subfolders, by name.
        public var images: Int
        /// How many of them are bad files.
        public var bad: Int
    }

    // MARK: - Per-file findings

    /// How a file fared in the preflight decode.
    public enum FileStatus: String, Codable, Sendable, CaseIterable {
        /// Decodes without complaint.
        case ok
        /// Decodes, but the decoder reported a problem (e.g. extraneous bytes before a marker).
        case warning
        /// The file could not be read (permissions, I/O error, vanished).
        case unreadable
        /// The data ends before the image does.
        case truncated
        /// The data is damaged beyond recovery.
        case corrupt
        /// A known image format dataprep does not decode (GIF, BMP, WebP, …).
        case unsupportedFormat
        /// Not an image format at all (a text or HTML file with an image name, an empty file).
        case unknownFormat
        /// The header declares more pixels than the limit.
        case tooLarge

        /// Whether the file cannot be trained on (everything but `ok` and `warning`).
        public var isBad: Bool { self != .ok && self != .warning }
    }

    /// A file that is bad or decoded with a warning.
    public struct FileIssue: Codable, Sendable, Hashable {
        /// Path relative to the dataset root.
        public var path: String
        /// What is wrong.
        public var status: FileStatus
        /// The format recognised from the bytes (`JPEG`, `GIF`, `unknown`); `nil` when unreadable.
        public var format: String?
        /// The decoder's or system's own message.
        public var message: String
    }

    /// Paths (relative, sorted) of decodable images by how they are stored. An image can be in
    /// several lists.
    public struct Traits: Codable, Sendable, Hashable {
        /// JPEGs stored as CMYK or YCCK (4 components): converted to RGB without colour management.
        public var cmyk: [String] = []
        /// Images stored without colour (gray, or gray + alpha).
        public var grayscale: [String] = []
        /// PNGs with 16 bits per sample, reduced to 8 bits on decode.
        public var sixteenBit: [String] = []
        /// PNGs with an alpha channel (or palette transparency), composited on a background.
        public var alpha: [String] = []
        /// PNGs stored as a palette.
        public var palette: [String] = []
        /// JPEGs whose EXIF orientation is not 1, turned upright on decode (Keras does not).
        public var exifRotated: [String] = []
    }

    // MARK: - Sizes

    /// Minimum, median and maximum of one dimension, in pixels.
    public struct Spread: Codable, Sendable, Hashable {
        /// The smallest value.
        public var min: Int
        /// The lower median: element `(n − 1) / 2` of the sorted values.
        public var median: Int
        /// The largest value.
        public var max: Int
    }

    /// A size and how many images have it.
    public struct SizeCount: Codable, Sendable, Hashable {
        /// Upright width in pixels.
        public var width: Int
        /// Upright height in pixels.
        public var height: Int
        /// Images of exactly this size.
        public var count: Int
    }

    /// Upright sizes of the decodable images (EXIF orientations 5–8 exchange width and height).
    public struct SizeStatistics: Codable, Sendable, Hashable {
        /// Widths in pixels.
        public var width: Spread
        /// Heights in pixels.
        public var height: Spread
        /// The most frequent sizes (at most five), most frequent first; ties by width, then height.
        public var mostCommon: [SizeCount]
    }

    // MARK: - Duplicates

    /// Image files with identical bytes.
    public struct DuplicateGroup: Codable, Sendable, Hashable {
        /// The sha256 the files share, lowercase hex.
        public var sha256: String
        /// The files, relative and sorted; at least two.
        public var paths: [String]
        /// Whether the files are in more than one split: the same image in training and
        /// validation data (leakage).
        public var acrossSplits: Bool
        /// Whether the files are in more than one class: the same image with two labels.
        public var acrossClasses: Bool
    }

    // MARK: - Quarantine

    /// What moving the bad files out of the dataset did.
    public struct QuarantineOutcome: Codable, Sendable, Hashable {
        /// The quarantine folder, as an absolute path.
        public var folder: String
        /// Files moved, relative to both the dataset root and the quarantine folder, sorted.
        public var moved: [String]
        /// Files that could not be moved, with the reason; they are still in the dataset.
        public var failed: [Failure]
    }

    /// A bad file that stayed where it was.
    public struct Failure: Codable, Sendable, Hashable {
        /// Path relative to the dataset root.
        public var path: String
        /// The system's message, or why the move was not attempted.
        public var message: String
    }
}
