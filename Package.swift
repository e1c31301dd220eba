// swift-tools-version:6.0
// dataprep: image archives → training-ready shards → a trained CNN.
// Dependencies point one way: dataprep → Trainer/Augment/Fetch → Shards/Codecs → C targets.
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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
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

        // MARK: Libraries
        .target(name: "Codecs", dependencies: ["CTurboJPEG", "CPNG"], swiftSettings: swiftSettings),
        .target(name: "Shards", swiftSettings: swiftSettings),
        .target(name: "Fetch", dependencies: ["Codecs", "Shards", "CCurl", "CArchive",
                                        .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: swiftSettings),
        .target(name: "Augment", dependencies: ["Codecs", "Shards"], swiftSettings: swiftSettings),
        .target(name: "Trainer", dependencies: ["Shards", "CDNNL"], swiftSettings: swiftSettings),

        // MARK: Command-line tool
        .executableTarget(
            name: "dataprep",
            dependencies: [
                "Codecs", "Fetch", "Augment", "Shards", "Trainer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (`make bench`, release builds only) and their shared test data
        .executableTarget(name: "dataprep-bench", dependencies: ["Codecs", "Fetch", "Augment", "Trainer", "TestSupport"],
                          path: "Benchmarks",
                          swiftSettings: swiftSettings),
        .target(name: "TestSupport", dependencies: ["Codecs", "Shards", "CTurboJPEG", "CArchive"], path: "Tests/TestSupport",
                swiftSettings: swiftSettings),

        // MARK: Tests
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "Shards", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AugmentTests", dependencies: ["Augment", "Codecs", "Shards", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ShardsTests", dependencies: ["Shards", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "Shards"], swiftSettings: swiftSettings),
        .testTarget(name: "dataprepTests", dependencies: ["dataprep", "Codecs", "Shards", "TestSupport"],
                    swiftSettings: swiftSettings),
    ]
)
