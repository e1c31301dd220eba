// `make bench`: release-build throughput of dataprep's stages, printed as one table on stdout
// (progress on stderr). Each section compares with the reference tool in the same run.
// `make bench ONLY=shards` (BENCH_ONLY) runs one section.
import Foundation

let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]
let all: [(String, () throws -> Section)] = [
    ("codecs", codecsBenchmarks),
    ("shards", shardsBenchmarks),
    ("trainer", trainerBenchmarks),
]
var sections: [Section] = []
for (name, run) in all where only == nil || only == name {
    sections.append(try run())
}
printTable(sections)
