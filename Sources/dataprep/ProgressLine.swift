import Dispatch
import Foundation

/// A one-line progress display on stderr, redrawn at most ten times a second, shown only when
/// stderr is a terminal (quiet in pipes, logs and CI).
final class ProgressLine: @unchecked Sendable {
    private let enabled = isatty(STDERR_FILENO) != 0
    private var last: UInt64 = 0
    private var started = DispatchTime.now().uptimeNanoseconds
    private let lock = NSLock()

    /// Seconds since the line was created.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

    /// Redraws the line with `text` (throttled unless `force`). Safe from any thread.
    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 100_000_000 else { return }
        last = now
        Diagnostics.write("\r\u{1B}[K" + text())
    }

    /// Starts timing afresh (for the rate and ETA of a new stage).
    func restart() {
        lock.withLock { started = DispatchTime.now().uptimeNanoseconds }
    }

    /// Redraws the line as a bar: `label [#####.......] done/total unit  rate unit/s  ETA m:ss`.
    func bar(_ label: String, done: Int, total: Int, unit: String = "images", force: Bool = false) {
        update(Self.barText(label, done: done, total: total, unit: unit, seconds: elapsed), force: force)
    }

    /// The text of ``bar(_:done:total:unit:force:)`` after `seconds`.
    static func barText(_ label: String, done: Int, total: Int, unit: String, seconds: Double) -> String {
        let width = 24, fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(seconds, 1e-9)
        var text = "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        text += "\(done)/\(total) \(unit)  " + String(format: "%.0f %@/s", rate, unit)
        if done > 0, done < total {
            let remaining = Int((Double(total - done) / rate).rounded())
            text += String(format: "  ETA %d:%02d", remaining / 60, remaining % 60)
        }
        return text
    }

    /// Ends the line.
    func finish() {
        if enabled { Diagnostics.write("\r\u{1B}[K") }
    }
}
