// swift-tools-version:6.0
// dataprep: image archives → training-ready shards → a trained CNN.
// Dependencies point one way. Libraries, each above the ones it names:
//   Support (the bottom, on Foundation alone: file I/O, the folder lock, parallel work, hashes, the
//     splittable generator, the CodedError protocol every module's error conforms to)
//   Codecs → Support, CTurboJPEG, CPNG        Shards → Support
//   Datasets → Codecs (dataset folders: layout, scan, split, quarantine)
//   Transfer → Support, CCurl (the one libcurl bridge)   RemoteShards → Shards, Transfer (sets on web
//     servers and in S3: the shard cache, the uploads)
//   Preparation → Shards, Datasets, CKernels  Fetch → Datasets, Transfer, CArchive
//   Augment → Preparation                     Trainer → Shards, CDNNL      ONNX → Trainer
// and dataprep, the command-line tool, on top of them all. Datasets is a target of its own, not a
// folder of Fetch, because Preparation reads dataset folders and must not depend on curl and
// libarchive.
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes with tools 6.0; these add
/// upcoming features that keep imports of C modules out of public API.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "dataprep",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dataprep", targets: ["dataprep"]),
        // The batch engine behind the Python loader: a C interface (Sources/CDataPrepEngine's one
        // header) over the shard reader and fresh augmentation; `make python` builds it.
        .library(name: "DataPrepEngine", type: .dynamic, targets: ["DataPrepEngine"]),
    ],
    // Pinned where a newer version would change what we print or build (Package.resolved stays
    // ignored: its revisions are the local mirror's).
    dependencies: [
        // Exact: argument-parser writes every --help and usage error, and the help snapshots
        // (Tests/dataprepTests/HelpSnapshots) are its output.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Patch releases only: a minor release may raise the toolchain it needs or change the
        // BoringSSL it builds.
        .package(url: "https://github.com/apple/swift-crypto", .upToNextMinor(from: "3.12.3")),
        // Only the runtime library: the ONNX message code was generated once and is committed
        // (Sources/ONNX/README.md), so no build runs protoc or its plugin. Patch releases only:
        // the committed code is checked against the runtime's API version.
        .package(url: "https://github.com/apple/swift-protobuf", .upToNextMinor(from: "1.39.0")),
    ],
    targets: [
        // MARK: System libraries (a module map and one header each)
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        // libdnnl-dev ships no pkg-config file (only a CMake config), so no pkgConfig here.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // MARK: Hot kernels in C, compiled per instruction set and chosen at run time
        .target(name: "CKernels"),

        // MARK: Libraries
        .target(name: "Support", swiftSettings: swiftSettings),
        .target(name: "Codecs", dependencies: ["Support", "CTurboJPEG", "CPNG"], swiftSettings: swiftSettings),
        .target(name: "Shards", dependencies: ["Support"], swiftSettings: swiftSettings),
        .target(name: "Datasets", dependencies: ["Support", "Codecs", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        .target(name: "Preparation", dependencies: ["Support", "Codecs", "Shards", "Datasets", "CKernels"], swiftSettings: swiftSettings),
        .target(name: "Transfer", dependencies: ["Support", "CCurl"], swiftSettings: swiftSettings),
        .target(name: "RemoteShards", dependencies: ["Support", "Shards", "Transfer"], swiftSettings: swiftSettings),
        .target(name: "Fetch", dependencies: ["Support", "Codecs", "Datasets", "Transfer", "CArchive"], swiftSettings: swiftSettings),
        .target(name: "Augment", dependencies: ["Support", "Codecs", "Shards", "Preparation"], swiftSettings: swiftSettings),
        .target(name: "Trainer", dependencies: ["Support", "Shards", "CDNNL"], swiftSettings: swiftSettings),
        // ONNX export: onnx.pb.swift is generated from Schema/onnx.proto (kept for reference, not compiled).
        .target(name: "ONNX", dependencies: ["Trainer", "Shards", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Schema", "README.md"], swiftSettings: swiftSettings),

        // MARK: The engine's C interface: its one header (and the layout checks), then the Swift side
        .target(name: "CDataPrepEngine"),
        .target(name: "DataPrepEngine", dependencies: ["CDataPrepEngine", "Shards", "RemoteShards", "Preparation", "Augment"], swiftSettings: swiftSettings),

        // MARK: Command-line tool
        .executableTarget(
            name: "dataprep",
            dependencies: [
                "Support", "Codecs", "Shards", "Datasets", "Preparation", "Fetch", "Augment", "Trainer", "ONNX", "RemoteShards",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (`make bench`, release builds only) and their shared test data
        .executableTarget(name: "dataprep-bench", dependencies: ["Support", "Codecs", "Shards", "Datasets", "Preparation", "Fetch", "Augment", "Trainer", "RemoteShards",
                                                                  "TestSupport"],
                          path: "Benchmarks",
                          swiftSettings: swiftSettings),
        .target(name: "TestSupport", dependencies: ["Support", "Codecs", "Shards", "Preparation", "CTurboJPEG", "CArchive"], path: "Tests/TestSupport",
                swiftSettings: swiftSettings),

        // MARK: Tests
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Codecs", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "Datasets", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PreparationTests", dependencies: ["Preparation", "Codecs", "Shards", "Support", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "AugmentTests", dependencies: ["Augment", "Preparation", "Codecs", "Shards", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ShardsTests", dependencies: ["Shards", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RemoteShardsTests", dependencies: ["RemoteShards", "Shards", "Transfer", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "Shards", "Support", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Trainer", "Shards", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "dataprepTests", dependencies: ["dataprep", "Codecs", "Shards", "Support", "Datasets", "Preparation", "Trainer", "TestSupport", "ONNX", "RemoteShards",
                                                          .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    exclude: ["HelpSnapshots", "EngineC"], swiftSettings: swiftSettings),
    ]
)
