import Dispatch
import Foundation

/// Runs independent pieces of work on several threads, each thread taking the next index from a
/// shared counter when it is free (so a slow item never holds up the others), and returns when
/// all are done. The one work queue of the jobs that run to completion: scanning, splitting,
/// importing and preparing shards. Reading batches is not one of them: `BatchLoader` keeps its
/// workers running ahead of the consumer into a bounded ring of buffers, a pipeline that a
/// fork-join call like this one cannot be.
///
/// Results never depend on the thread count: callers write each index's result into its own slot.
public enum ParallelWork {
    /// Calls `body(worker, index)` once for every index in `0..<count`, on up to `threads` threads;
    /// `worker` (in `0..<threads`) names the calling thread, so per-thread state (a decoder, a
    /// preparer) can be indexed by it. Returns when every call has returned. After `body` returns
    /// `false`, no new index is started (the running ones finish).
    public static func forEach(count: Int, threads: Int, _ body: (_ worker: Int, _ index: Int) -> Bool) {
        guard count > 0 else { return }
        let counter = IndexCounter(count: count)
        let workers = max(1, min(threads, count))
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body  // each index is handed to one thread
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while let index = counter.take() {
                    if !body(worker, index) { counter.stop() }
                }
            }
        }
    }

    /// `transform(worker, index)` for every index in `0..<count`, on up to `threads` threads, in
    /// index order.
    ///
    /// After a failure no new index starts, and the error thrown is that of the lowest failing index:
    /// every lower index had started and ran to its end, so the error does not depend on the thread
    /// count or the scheduling.
    /// - Parameter progress: called after each index with the number done so far (from any thread).
    public static func map<T>(
        count: Int, threads: Int, progress: ((Int) -> Void)? = nil,
        _ transform: (_ worker: Int, _ index: Int) throws -> T
    ) throws -> [T] {
        let results = ResultSlots<T>(count: count)
        forEach(count: count, threads: threads) { worker, index in
            let result = Result { try transform(worker, index) }
            let done = results.store(result, at: index)
            progress?(done)
            if case .failure = result { return false }
            return true
        }
        return try results.values()
    }
}

// MARK: - Shared state

/// Hands out 0 ..< count, each once, to whichever thread asks first, until stopped.
private final class IndexCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var count: Int

    init(count: Int) { self.count = count }

    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func stop() { lock.withLock { count = next } }
}

/// One result slot per index, filled by the worker threads.
private final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, any Error>?]
    private var done = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// Stores index `index`'s result; returns how many are stored.
    func store(_ result: Result<T, any Error>, at index: Int) -> Int {
        lock.withLock {
            slots[index] = result
            done += 1
            return done
        }
    }

    /// Every value in index order, or the lowest index's error (call after the threads finish).
    func values() throws -> [T] {
        try lock.withLock {
            var values: [T] = []
            values.reserveCapacity(slots.count)
            for case let slot? in slots { values.append(try slot.get()) }
            return values
        }
    }
}
