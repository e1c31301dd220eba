// Importers for datasets that ship as binary record files rather than image files: MNIST-style
// IDX files and the CIFAR-10 binary batches. Each record becomes one PNG in a class folder, so the
// result is an ordinary split dataset (`DEST/train/<class>/`, `DEST/validation/<class>/`).
// - SeeAlso: http://yann.lecun.com/exdb/mnist/ (IDX format, "FILE FORMATS FOR THE MNIST DATABASE");
//   https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
//
// Files are streamed: records are gathered into batches of about 8 MiB, each batch is encoded in
// parallel, and the next batch is read only after that, so memory does not grow with the file.
// File names come from the record's index, never from the thread that wrote it, so the output is
// the same whatever the thread count.

// MARK: - Report

/// What an import wrote: image counts per split folder and per class.
public struct ImportReport: Sendable, Hashable {
    /// The images written to one split folder.
    public struct SplitCount: Sendable, Hashable {
        /// The split folder's name: `train` or `validation`.
        public var split: String
        /// Images per class, in label order (`imagesPerClass[i]` is for `classNames[i]`).
        public var imagesPerClass: [Int]
    }

    /// The class folder names, in label order.
    public var classNames: [String]
    /// One entry per split folder, `train` first.
    public var splits: [SplitCount]

    /// Images written in all splits and classes.
    public var totalImages: Int { splits.reduce(0) { $0 + $1.imagesPerClass.reduce(0, +) } }

    /// Images written to `split`/`className`, 0 when there is no such split or class.
    public func count(split: String, className: String) -> Int {
        guard let label = classNames.firstIndex(of: className),
            let entry = splits.first(where: { $0.split == split })
        else { return 0 }
        return entry.imagesPerClass[label]
    }
}
