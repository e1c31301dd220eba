public import Codecs
import Dispatch
import Foundation
public import Shards
import Support

/// One image to prepare.
public struct PreparationItem: Sendable, Hashable {
    /// The image file.
    public var path: String
    /// Its class index.
    public var label: Int

    public init(path: String, label: Int) {
        self.path = path
        self.label = label
    }
}

/// What to do when an image cannot be decoded.
public enum ErrorPolicy: String, Sendable, CaseIterable {
    /// Stop at the first bad image (in input order) and throw its ``CodecError``.
    case fail
    /// Leave it out of the shards and list it in the report.
    case skip
}

/// Turns one image into shard records. Each worker thread owns one (decoders are not `Sendable`),
/// so implementations may keep scratch state. Output must depend only on the item, its index and
/// the copy number, never on which worker runs it: that is what makes the shards identical whatever
/// the thread count.
public protocol RecordPreparer: AnyObject {
    /// Writes copy `copy` of item `index` into `image` (exactly the layout's image bytes) and
    /// returns the record's parameters (the layout's parameter count) and any decoder warning.
    /// - Throws: ``CodecError`` when the image cannot be decoded (then no copy of it is kept).
    func prepare(
        _ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer
    ) throws
        -> (parameters: [Float], warning: String?)
}

/// What a preparation run did.
public struct PreparationReport: Sendable {
    /// Source images written (each as `copies` records).
    public var written: Int
    /// Images left out, with why, in input order.
    public var skipped: [CodecError]
    /// Images kept despite a decoder warning: (path, warning), in input order.
    public var warnings: [(path: String, warning: String)]
    /// How long the worker threads waited instead of preparing, in thread-seconds.
    public var idle = Idle()

    /// Worker threads' waits, in thread-seconds (a second of two threads waiting counts 2).
    public struct Idle: Sendable {
        /// At the end of each window, for the other workers to finish their last image.
        public var windowEnds = 0.0
        /// For the writing thread to finish appending the window before last, whose buffer the
        /// next window needs.
        public var writer = 0.0

        public init(windowEnds: Double = 0, writer: Double = 0) {
            self.windowEnds = windowEnds
            self.writer = writer
        }
    }
}

/// Runs a ``RecordPreparer`` over many images on several threads and appends the records to a
/// ``ShardWriter`` in input order (image-major: all copies of image 0, then of image 1, ...).
///
/// The files of the next window are read ahead (``FileIO/prefetch(_:)``) while a window is prepared.
/// Work proceeds in windows of `32 · threads` images (fewer when their records would exceed
/// ``windowBytes``, so memory does not grow with the copies) held in two buffers allocated once and reused:
/// while the threads fill one window (each taking the next unprepared image as it becomes free),
/// the records of the previous window are appended in order on a writing thread. Each worker
/// renders straight into its record's place in the window, completes the record (label, source
/// id, parameters) and takes its XXH64 there, while the record is in its cache; the writing thread
/// only copies whole records into the writer's buffer. The source id of each record is the item's
/// index in `items`. Records depend only on their slot, never on which thread prepared them, so
/// the output is the same for any thread count.
public enum ShardPreparation {
    /// Prepares `items` (or the part `range` of them) into `writer`.
    /// - Parameters:
    ///   - range: the items to prepare (default: all); indices, source ids and random draws stay
    ///     those of the whole list, so parts of a list prepared apart give the records of the whole.
    ///   - copies: records per image (augmented copies; 1 for plain resizing).
    ///   - threads: worker threads; `preparers` gets called once per thread to make each one's preparer.
    ///   - progress: called on the calling thread after each window is written, with the images done so far.
    /// - Throws: the first ``CodecError`` in input order under `.fail`; ``ShardError`` from the writer.
    public static func run(
        items: [PreparationItem], range: Range<Int>? = nil, copies: Int, writer: ShardWriter, threads: Int,
        onError: ErrorPolicy, progress: ((Int) -> Void)? = nil,
        preparers: () -> any RecordPreparer
    ) throws -> PreparationReport {
        let threads = max(1, threads)
        // Up to 32 images per thread, but never more than `windowBytes` of records in one window,
        // whatever the copies: memory stays bounded by the window of in-flight images.
        let recordBytes = max(1, copies * writer.layout.stride)
        let window = max(1, min(32 * threads, Self.windowBytes / recordBytes))
        let workers = (0..<threads).map { _ in preparers() }
        let buffers = (0..<2).map { _ in Window(slots: window, copies: copies, layout: writer.layout) }
        let appender = WindowAppender(writer: writer, items: items, copies: copies, onError: onError)
        let writing = DispatchQueue(label: "dataprep.shard-preparation.writer")
        // Reads ahead: while a window is prepared, the next window's files are asked into the
        // page cache, so that a cold dataset's reads overlap the decoding.
        let readingAhead = DispatchQueue(label: "dataprep.shard-preparation.read-ahead", qos: .utility)
        let written = DispatchGroup()
        let range = range ?? 0..<items.count
        precondition(range.lowerBound >= 0 && range.upperBound <= items.count, "range \(range) is outside the items")
        var done = 0
        var idle = PreparationReport.Idle()

        for (number, start) in stride(from: range.lowerBound, to: range.upperBound, by: window).enumerated() {
            let end = min(start + window, range.upperBound)
            let next = items[end..<min(end + window, range.upperBound)].map(\.path)
            if number == 0 { FileIO.prefetch(items[start..<end].map(\.path)) }
            readingAhead.async { FileIO.prefetch(next) }
            let buffer = buffers[number % 2]
            idle.windowEnds += buffer.fill(items[start..<end], with: workers)
            let waiting = DispatchTime.now().uptimeNanoseconds
            written.wait()  // the previous window is appended; its buffer is free again
            idle.writer += Double(threads) * Double(DispatchTime.now().uptimeNanoseconds - waiting) / 1e9
            if let failure = appender.failure { throw failure }
            if done > 0 { progress?(done) }
            done = end - range.lowerBound
            nonisolated(unsafe) let (target, filled) = (appender, buffer)  // the writing thread alone uses them until `wait`
            writing.async(group: written) { target.append(filled, start: start, count: end - start) }
        }
        let waiting = DispatchTime.now().uptimeNanoseconds
        written.wait()
        idle.writer += Double(threads) * Double(DispatchTime.now().uptimeNanoseconds - waiting) / 1e9
        if let failure = appender.failure { throw failure }
        if done > 0 { progress?(done) }
        var report = appender.report
        report.idle = idle
        return report
    }

    /// The most image bytes one window holds (there are two windows): 256 MiB.
    public static let windowBytes = 256 << 20

    fileprivate enum Outcome {
        case pending
        case prepared(warning: String?)
        case failed(CodecError)
        /// The preparer broke its contract (a wrong parameter count): stops the run whatever the policy.
        case invalid(ShardError)
    }
}

// MARK: - Windows

/// The records of one window of images, their checksums, and how each image went. Filled by the
/// worker threads, each writing only the slots it takes, then read by the writing thread.
private final class Window {
    let copies: Int
    let layout: RecordLayout
    let records: UnsafeMutableRawBufferPointer
    let checksums: UnsafeMutableBufferPointer<UInt64>
    var outcomes: [ShardPreparation.Outcome]

    init(slots: Int, copies: Int, layout: RecordLayout) {
        self.copies = copies
        self.layout = layout
        // Not cleared: a record is used only once its worker has written every byte of it (the
        // image, then the fields and padding), so its pages are first touched by the workers, in
        // parallel, rather than all at once here (fresh pages are slow to touch on these VMs).
        records = .allocate(byteCount: slots * copies * layout.stride, alignment: 64)
        checksums = .allocate(capacity: slots * copies)
        checksums.initialize(repeating: 0)
        outcomes = [ShardPreparation.Outcome](repeating: .pending, count: slots)
    }

    deinit {
        records.deallocate()
        checksums.deallocate()
    }

    /// The record of `copy` of the image in `slot` (`layout.stride` bytes).
    func record(slot: Int, copy: Int) -> UnsafeMutableRawBufferPointer {
        let offset = (slot * copies + copy) * layout.stride
        return UnsafeMutableRawBufferPointer(rebasing: records[offset..<offset + layout.stride])
    }

    /// The XXH64 of `copy` of the image in `slot`.
    func checksum(slot: Int, copy: Int) -> UInt64 { checksums[slot * copies + copy] }

    /// Prepares `items` (slot i holds `items[items.startIndex + i]`) on one thread per worker; each
    /// thread takes the next unprepared slot when it is free. Returns the thread-seconds the
    /// workers spent at the end waiting for the last of them.
    func fill(_ items: ArraySlice<PreparationItem>, with workers: [any RecordPreparer]) -> Double {
        var finished = [UInt64](repeating: 0, count: workers.count)  // each worker's last finish
        outcomes.withUnsafeMutableBufferPointer { results in
            finished.withUnsafeMutableBufferPointer { finished in
                ParallelWork.forEach(count: items.count, threads: workers.count) { worker, slot in
                    // Each slot is written by the one thread that took it, each clock by its worker.
                    results[slot] = prepare(
                        items[items.startIndex + slot], index: items.startIndex + slot, slot: slot,
                        with: workers[worker])
                    finished[worker] = DispatchTime.now().uptimeNanoseconds
                    return true
                }
            }
        }
        let end = finished.max() ?? 0
        return finished.reduce(0.0) { $0 + ($1 == 0 ? 0 : Double(end - $1) / 1e9) }
    }

    /// Renders every copy of `item` into its records, completes them and takes their checksums.
    private func prepare(
        _ item: PreparationItem, index: Int, slot: Int, with preparer: any RecordPreparer
    )
        -> ShardPreparation.Outcome
    {
        var warning: String?
        do {
            for copy in 0..<copies {
                let record = record(slot: slot, copy: copy)
                let result = try preparer.prepare(
                    item, index: index, copy: copy, into: UnsafeMutableRawBufferPointer(rebasing: record[..<layout.imageBytes]))
                guard result.parameters.count == layout.parameterCount else {
                    return .invalid(
                        ShardError(
                            .invalidArgument,
                            "the preparer gave \(result.parameters.count) parameters; the layout wants \(layout.parameterCount)"))
                }
                layout.completeRecord(
                    record, label: item.label, source: layout.sourceOffset == nil ? nil : UInt32(index), parameters: result.parameters)
                checksums[slot * copies + copy] = XXHash64.hash(UnsafeRawBufferPointer(record))
                warning = warning ?? result.warning
            }
            return .prepared(warning: warning)
        } catch let error as CodecError {
            return .failed(error.path == nil ? CodecError(error.code, error.message, path: item.path) : error)
        } catch {
            return .failed(CodecError(.corrupt, "\(error)", path: item.path))
        }
    }
}

/// Appends prepared windows to the writer in input order and keeps the report; stops at the first
/// failure (a decode error under `.fail`, or a writer error). Used by one thread at a time.
private final class WindowAppender {
    let writer: ShardWriter
    let items: [PreparationItem]
    let copies: Int
    let onError: ErrorPolicy
    private(set) var report = PreparationReport(written: 0, skipped: [], warnings: [])
    private(set) var failure: (any Error)?

    init(writer: ShardWriter, items: [PreparationItem], copies: Int, onError: ErrorPolicy) {
        self.writer = writer
        self.items = items
        self.copies = copies
        self.onError = onError
    }

    func append(_ window: Window, start: Int, count: Int) {
        guard failure == nil else { return }
        do {
            for slot in 0..<count {
                let item = items[start + slot]
                switch window.outcomes[slot] {
                case .failed(let error):
                    if onError == .fail { throw error }
                    report.skipped.append(error)
                case .prepared(let warning):
                    if let warning { report.warnings.append((item.path, warning)) }
                    for copy in 0..<copies {
                        try writer.append(
                            record: UnsafeRawBufferPointer(window.record(slot: slot, copy: copy)),
                            checksum: window.checksum(slot: slot, copy: copy))
                    }
                    report.written += 1
                case .invalid(let error):
                    throw error
                case .pending:
                    preconditionFailure("slot \(slot) was not prepared")
                }
            }
        } catch {
            failure = error
        }
    }
}
