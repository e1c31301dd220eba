// Host memory the trainer owns: aligned Float buffers allocated once and reused for the life of a
// model (these VMs make re-touching freed memory slow), and the chunked parallel loop that the
// Swift-side elementwise work (dropout, optimizer updates) runs on.
import Dispatch
import Foundation

// MARK: - Buffers

/// `count` Float32 values, 64-byte aligned, zero-filled once at allocation (so the pages are touched
/// up front, not in the first training step). Freed with the buffer.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}

// MARK: - Parallel loops

/// Worker threads for Swift-side loops: the cores, capped by `OMP_NUM_THREADS` when it is set, so the
/// trainer keeps to the thread budget oneDNN is given.
let workerThreads: Int = {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard let value = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"], let limit = Int(value), limit >= 1 else {
        return cores
    }
    return min(cores, limit)
}()

/// The thread budget `OMP_NUM_THREADS` gives oneDNN's OpenMP runtime (libgomp), which reads it when
/// it is loaded and starts a team of that many threads at the first parallel region: 100000 overflows
/// its stack (a segfault) and thousands crawl on a few cores.
public enum OpenMPThreadBudget {
    /// The most threads `OMP_NUM_THREADS` may ask for: 256, or the cores when there are more.
    public static var maximum: Int { max(256, ProcessInfo.processInfo.activeProcessorCount) }

    /// Checks every count of `OMP_NUM_THREADS` in `environment` (one count, or a comma-separated list
    /// for nested levels, each as libgomp reads it). Values libgomp does not take as a count (`0`,
    /// `nan`, an empty string) are left to it: it warns and uses its default.
    /// - Throws: ``TrainerError`` `invalidArgument` for a count above ``maximum``, naming the variable.
    public static func validate(environment: [String: String]) throws(TrainerError) {
        guard let value = environment["OMP_NUM_THREADS"] else { return }
        for element in value.split(separator: ",", omittingEmptySubsequences: false) {
            var digits = Substring(element.trimmingCharacters(in: .whitespaces))
            if digits.first == "+" { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { continue }
            if let count = Int(digits), count <= maximum { continue }
            throw TrainerError(
                .invalidArgument,
                "OMP_NUM_THREADS must be 1...\(maximum) threads, got '\(value)': set it to the cores to use, or unset it")
        }
    }
}

/// Runs `body` over `0..<count` split into contiguous chunks, one per worker thread, concurrently;
/// serially when `count` is below `serialBelow`. Chunk boundaries are multiples of 64 elements and
/// depend only on `count` and the thread count, so elementwise results never depend on timing.
func parallelChunks(_ count: Int, serialBelow: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    guard count >= serialBelow, workerThreads > 1 else {
        body(0..<count)
        return
    }
    let chunk = ((count + workerThreads - 1) / workerThreads + 63) / 64 * 64
    let chunks = (count + chunk - 1) / chunk
    // concurrentPerform wants a @Sendable closure; `body` only touches memory the caller partitions
    // by the ranges handed out here.
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: chunks) { index in
        body(index * chunk..<min(count, (index + 1) * chunk))
    }
}
