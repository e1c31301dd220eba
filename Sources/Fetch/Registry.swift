/// A dataset dataprep knows by name: where its files come from, how to check them, and how they
/// become class folders.
public struct RegistryEntry: Sendable, Hashable {
    /// How the downloaded files turn into `train/<class>/`, `validation/<class>/` folders.
    public enum Layout: Sendable, Hashable {
        /// An archive already split into `train/<class>/` and `validation/<class>/` folders.
        case splitClassFolders
        /// An archive of `<class>/` folders, not split (run `dataprep split` next).
        case classFolders
        /// One archive of `<class>/` folders per split: each file's ``RemoteFile/split`` names the
        /// split folder it is extracted into, so the archives make one split dataset.
        case splitArchives
        /// MNIST-style IDX files (train/t10k images and labels), imported to PNG class folders
        /// named by `classNames` (label i is `classNames[i]`).
        case idx(classNames: [String])
        /// The CIFAR-10 binary version (a .tar.gz of `cifar-10-batches-bin/`), imported to PNG class
        /// folders named by its `batches.meta.txt`.
        case cifar10Binary
        /// A local `cifar-10-batches-bin` folder, imported from where it is like ``cifar10Binary``.
        case cifar10Folder(path: String)
        /// Any archive fetched by URL: extracted as it is (a single top-level folder is unwrapped);
        /// one holding the CIFAR-10 binary batches is imported like ``cifar10Binary``.
        case archive
    }

    /// One file to obtain.
    public struct RemoteFile: Sendable, Hashable {
        /// The file name in the download cache (and in a local copy's folder).
        public var name: String
        /// Where to get it, tried in order; all serve the same bytes.
        public var urls: [String]
        /// Its size in bytes, when known.
        public var size: Int?
        /// Its sha256 (lowercase hex), when known; otherwise recorded on first download and checked
        /// on every later use.
        public var sha256: String?
        /// The split folder (`train`, `validation`) its class folders go into, for a
        /// ``Layout/splitArchives`` entry; nil otherwise.
        public var split: String?

        /// A file to obtain; `split` is its split role in a ``Layout/splitArchives`` entry.
        public init(name: String, urls: [String], size: Int?, sha256: String?, split: String? = nil) {
            self.name = name
            self.urls = urls
            self.size = size
            self.sha256 = sha256
            self.split = split
        }
    }

    /// Where a system package installs the files, so they are found before the network.
    public struct LocalCopy: Sendable, Hashable {
        /// The folder under a search-path root (e.g. `fashion-mnist` under `/usr/share/datasets`).
        public var folder: String
        /// The package that installs it (e.g. `dataset-fashion-mnist`).
        public var package: String
        /// sha256 of each file as the package ships it (keyed by file name), where it differs from
        /// the upstream file (Debian recompresses .gz files); either digest is accepted.
        public var sha256: [String: String]

        public init(folder: String, package: String, sha256: [String: String]) {
            self.folder = folder
            self.package = package
            self.sha256 = sha256
        }
    }

    /// The name `dataprep fetch` takes.
    public var name: String
    /// One line for `dataprep fetch --list`.
    public var summary: String
    public var files: [RemoteFile]
    public var layout: Layout
    /// A system package's copy, if one exists. Without one, `<root>/<name>/<file>` is still looked
    /// for under each search-path root and accepted when its sha256 matches.
    public var localCopy: LocalCopy?

    public init(name: String, summary: String, files: [RemoteFile], layout: Layout, localCopy: LocalCopy? = nil) {
        self.name = name
        self.summary = summary
        self.files = files
        self.layout = layout
        self.localCopy = localCopy
    }
}

/// The built-in datasets.
///
/// Sizes and sha256 digests come from TensorFlow Datasets' published url_checksums where the same
/// file is listed there; `cats_and_dogs_filtered` has no published digest, so its sha256 is
/// recorded on first download and checked after that.
public enum Registry {
    /// Every built-in dataset, in the order `fetch --list` shows them.
    public static let entries: [RegistryEntry] = [
        RegistryEntry(
            name: "cats_and_dogs_filtered",
            summary: "2,000 training and 1,000 validation JPEGs of cats and dogs (the Keras tutorial's data)",
            files: [
                .init(
                    name: "cats_and_dogs_filtered.zip",
                    urls: ["https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"],
                    size: 68_606_236, sha256: nil)
            ],
            layout: .splitClassFolders),
        RegistryEntry(
            name: "horse-or-human",
            summary: "1,027 training and 256 validation 300x300 PNGs of horses and humans (two archives, one split dataset)",
            files: [
                .init(
                    name: "horse-or-human.zip",
                    urls: [
                        "https://storage.googleapis.com/learning-datasets/horse-or-human.zip",
                        "https://storage.googleapis.com/download.tensorflow.org/data/horse-or-human.zip",
                    ],
                    size: 149_574_867,
                    sha256: "e2e6f70d3d549c5dd10a57165e55af253ee66ad750403f95c0fb76bb943633a9", split: "train"),
                .init(
                    name: "validation-horse-or-human.zip",
                    urls: [
                        "https://storage.googleapis.com/learning-datasets/validation-horse-or-human.zip",
                        "https://storage.googleapis.com/download.tensorflow.org/data/validation-horse-or-human.zip",
                    ],
                    size: 11_480_187,
                    sha256: "ae5fff2f4f5554791f05358108e2e05d9801b191f1896ea101402f0e7f6c32c0", split: "validation"),
            ],
            layout: .splitArchives),
        RegistryEntry(
            name: "flower_photos",
            summary: "3,670 JPEGs of 5 kinds of flowers, class folders, not split",
            files: [
                .init(
                    name: "flower_photos.tgz",
                    urls: ["https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"],
                    size: 228_813_984,
                    sha256: "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c")
            ],
            layout: .classFolders),
        RegistryEntry(
            name: "fashion_mnist",
            summary: "70,000 28x28 gray clothing images in 10 classes (IDX files → PNG folders)",
            files: idxFiles(
                base: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                [
                    ("train-images-idx3-ubyte.gz", 26_421_880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
                    ("train-labels-idx1-ubyte.gz", 29_515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
                    ("t10k-images-idx3-ubyte.gz", 4_422_102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
                    ("t10k-labels-idx1-ubyte.gz", 5_148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
                ]),
            layout: .idx(classNames: IDXDataset.fashionMNISTClassNames),
            localCopy: .init(
                folder: "fashion-mnist", package: "dataset-fashion-mnist",
                sha256: [
                    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
                ])),
        RegistryEntry(
            name: "mnist",
            summary: "70,000 28x28 gray handwritten digits (IDX files → PNG folders)",
            files: idxFiles(
                base: "https://storage.googleapis.com/cvdf-datasets/mnist/",
                [
                    ("train-images-idx3-ubyte.gz", 9_912_422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
                    ("train-labels-idx1-ubyte.gz", 28_881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
                    ("t10k-images-idx3-ubyte.gz", 1_648_877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
                    ("t10k-labels-idx1-ubyte.gz", 4_542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
                ]),
            layout: .idx(classNames: IDXDataset.mnistClassNames)),
        RegistryEntry(
            name: "cifar10",
            summary: "60,000 32x32 colour images in 10 classes (CIFAR-10 binary version → PNG folders)",
            files: [
                .init(
                    name: "cifar-10-binary.tar.gz",
                    urls: ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
                    size: 170_052_171,
                    sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd")
            ],
            layout: .cifar10Binary),
    ]

    /// The entry called `name`, if there is one.
    public static func entry(named name: String) -> RegistryEntry? {
        entries.first { $0.name == name }
    }

    private static func idxFiles(base: String, _ files: [(String, Int, String)]) -> [RegistryEntry.RemoteFile] {
        files.map { .init(name: $0.0, urls: [base + $0.0], size: $0.1, sha256: $0.2) }
    }
}
