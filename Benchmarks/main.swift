// `make bench`: release-build throughput of dataprep's stages, printed as one table on stdout
// (progress on stderr). Each section compares with the reference tool in the same run.
// `make bench ONLY=shards` runs one section.
import Foundation

let only = ProcessInfo.processInfo.environment["BENCH_ONLY"].flatMap { $0.isEmpty ? nil : $0 }
let all: [(String, () throws -> Section)] = [
    ("codecs", codecsBenchmarks),
    ("download", downloadBenchmarks),
    ("extraction", extractionBenchmarks),
    ("fetch-memory", fetchMemoryBenchmark),
    ("shards", shardsBenchmarks),
    ("augment", augmentBenchmarks),
    ("trainer", trainerBenchmarks),
    ("fresh", freshAugmentationBenchmarks),
    ("shared", sharedMachineBenchmarks),
    ("python", pythonLoaderBenchmarks),
    ("stream", streamBenchmarks),
]
var sections: [Section] = []
for (name, run) in all where only == nil || only == name {
    sections.append(try run())
}
printTable(sections)

// `make bench-keras` reads the measured rows back to print dataprep ÷ Keras ratios.
if let path = ProcessInfo.processInfo.environment["BENCH_JSON"], !path.isEmpty {
    let rows = sections.flatMap { section in
        section.rows.map { ["section": section.title, "stage": $0.stage, "rate": $0.rate, "unit": $0.unit] as [String: Any] }
    }
    try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
}
