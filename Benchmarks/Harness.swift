import Dispatch
import Foundation

// MARK: - Measuring

/// Seconds each row is measured for, after a warm-up (`BENCH_SECONDS`, default 3).
let benchSeconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 3

/// Calls `body` (which handles `batch` items per call) for ``benchSeconds`` after a warm-up of at
/// most one second; returns items per second.
func rate(batch: Int = 1, _ body: () throws -> Void) rethrows -> Double {
    func run(for duration: Double) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        var calls = 0, elapsed = 0.0
        repeat {
            try body()
            calls += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < duration
        return Double(calls * batch) / elapsed
    }
    _ = try run(for: min(1, benchSeconds))
    return try run(for: benchSeconds)
}

/// Wall-clock seconds `body` takes once.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Progress lines go to stderr; the table is the only thing on stdout.
func progress(_ text: String) {
    FileHandle.standardError.write(Data("  \(text)\n".utf8))
}

// MARK: - Reporting

/// One line of the table: a stage, its throughput, and how it compares with the reference tool.
struct Row {
    var stage: String
    /// Items per second (images, files or archives, as `unit` says).
    var rate: Double
    var unit = "images/s"
    /// A second throughput column, e.g. "285.9 MP/s" or "812 MB/s".
    var throughput = ""
    var note = ""
}

/// A group of rows under a heading.
struct Section {
    var title: String
    var rows: [Row]
}

func printTable(_ sections: [Section]) {
    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
    for section in sections {
        print("\n\(section.title)")
        print(pad("stage", 52) + pad("rate", 18, right: true) + pad("throughput", 17, right: true) + "  note")
        for row in section.rows {
            let rate = String(format: row.rate >= 100 ? "%.0f %@" : "%.2f %@", row.rate, row.unit)
            print(pad(row.stage, 52) + pad(rate, 18, right: true) + pad(row.throughput, 17, right: true) + "  " + row.note)
        }
    }
}
