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
        /// At the end, for the other workers to finish their last images.
        public var end = 0.0
        /// For the writing thread to append the records that held the slots they needed.
        public var writer = 0.0

        public init(end: Double = 0, writer: Double = 0) {
            self.end = end
            self.writer = writer
        }
    }
}

/// Runs a ``RecordPreparer`` over many images on several threads and appends the records to a
/// ``ShardWriter`` in input order (image-major: all copies of image 0, then of image 1, ...).
///
/// The records live in a ring of `64 · threads` image slots (fewer when their records would exceed
/// ``windowBytes``, so memory does not grow with the copies), allocated once: each worker thread
/// takes the next image as it becomes free (waiting only when the ring is full), renders straight
/// into its slot's records, completes them (label, source id, parameters) and takes their XXH64
/// there, while they are in its cache. The calling thread appends the records in input order as
/// soon as they are ready, a few images at a time, only copying them into the writer's buffer. No
/// worker waits for the others except at the very end. The files of the images ahead are read
/// ahead (``FileIO/prefetch(_:)``, half a ring at a time). The source id of each record is the
/// item's index in `items`. Records depend only on their image, never on which thread prepared
/// them, so the output is the same for any thread count.
public enum ShardPreparation {
    /// Prepares `items` (or the part `range` of them) into `writer`.
    /// - Parameters:
    ///   - range: the items to prepare (default: all); indices, source ids and random draws stay
    ///     those of the whole list, so parts of a list prepared apart give the records of the whole.
    ///   - copies: records per image (augmented copies; 1 for plain resizing).
    ///   - threads: worker threads; `preparers` gets called once per thread to make each one's preparer.
    ///   - progress: called on the calling thread each time another half ring of images is written,
    ///     and at the end, with the images done so far.
    /// - Throws: the first ``CodecError`` in input order under `.fail`; ``ShardError`` from the writer.
    public static func run(
        items: [PreparationItem], range: Range<Int>? = nil, copies: Int, writer: ShardWriter, threads: Int,
        onError: ErrorPolicy, progress: ((Int) -> Void)? = nil,
        preparers: () -> any RecordPreparer
    ) throws -> PreparationReport {
        let threads = max(1, threads)
        let range = range ?? 0..<items.count
        precondition(range.lowerBound >= 0 && range.upperBound <= items.count, "range \(range) is outside the items")
        // Up to 32 images per thread in each half of the ring, but never more than `windowBytes`
        // of records in a half, whatever the copies: memory stays bounded by the images in flight.
        let recordBytes = max(1, copies * writer.layout.stride)
        let half = max(1, min(32 * threads, Self.windowBytes / recordBytes))
        let ring = Ring(slots: 2 * half, copies: copies, layout: writer.layout)
        let schedule = Schedule(range: range, slots: 2 * half, batch: max(1, min(16, half / 2)))
        let appender = Appender(writer: writer, items: items, copies: copies, onError: onError)
        // Reads ahead: while half a ring of images is prepared, the next half's files are asked
        // into the page cache, so that a cold dataset's reads overlap the decoding.
        let readingAhead = DispatchQueue(label: "dataprep.shard-preparation.read-ahead", qos: .utility)
        @Sendable func readAhead(from start: Int) {
            guard start < range.upperBound else { return }
            let paths = items[start..<min(start + half, range.upperBound)].map(\.path)
            readingAhead.async { FileIO.prefetch(paths) }
        }
        FileIO.prefetch(items[range.lowerBound..<min(range.lowerBound + half, range.upperBound)].map(\.path))
        readAhead(from: range.lowerBound + half)

        // The workers: each takes the next image, prepares it into its slot and hands it over.
        let working = DispatchGroup()
        let workers = (0..<threads).map { _ in preparers() }
        var ends = [UInt64](repeating: 0, count: threads)
        var waits = [Double](repeating: 0, count: threads)
        ends.withUnsafeMutableBufferPointer { ends in
            waits.withUnsafeMutableBufferPointer { waits in
                nonisolated(unsafe) let (ends, waits, workers) = (ends, waits, workers)
                for worker in 0..<threads {
                    // Each worker alone uses its preparer, its clocks, and the slots it takes.
                    DispatchQueue.global().async(group: working) {
                        while let (index, waited) = schedule.take() {
                            waits[worker] += waited
                            if (index - range.lowerBound) % half == 0 && index > range.lowerBound { readAhead(from: index + half) }
                            ring.prepare(items[index], index: index, with: workers[worker])
                            schedule.finished(index)
                        }
                        ends[worker] = DispatchTime.now().uptimeNanoseconds
                    }
                }

                // The calling thread appends the records in input order as they are ready.
                var next = range.lowerBound
                while next < range.upperBound, appender.failure == nil {
                    let ready = schedule.ready(from: next)
                    for index in next..<ready {
                        appender.append(index, ring: ring)
                        if appender.failure != nil { break }
                    }
                    let reported = (next - range.lowerBound) / half
                    next = ready
                    schedule.appended(through: next)
                    if (next - range.lowerBound) / half > reported && next < range.upperBound { progress?(next - range.lowerBound) }
                }
                if appender.failure != nil { schedule.stop() }
                working.wait()
            }
        }
        if let failure = appender.failure { throw failure }
        if range.count > 0 { progress?(range.count) }
        var report = appender.report
        let last = ends.max() ?? 0
        report.idle = PreparationReport.Idle(
            end: ends.reduce(0.0) { $0 + Double(last - $1) / 1e9 }, writer: waits.reduce(0, +))
        return report
    }

    /// The most image bytes half the ring holds (there are two halves): 256 MiB.
    public static let windowBytes = 256 << 20

    fileprivate enum Outcome {
        case pending
        case prepared(warning: String?)
        case failed(CodecError)
        /// The preparer broke its contract (a wrong parameter count): stops the run whatever the policy.
        case invalid(ShardError)
    }
}

// MARK: - Handing images out and records back

/// Which image each worker prepares next, which are ready for the writer, and which slots are
/// free: image `i` goes to slot `i mod slots`, free once image `i − slots` is appended. One lock
/// for all of it (a few operations per image); the appending thread is woken only when the
/// `batch` images it waits for are all ready, not for each one.
private final class Schedule: @unchecked Sendable {
    private let condition = NSCondition()
    private let range: Range<Int>
    private let slots: Int
    private let batch: Int
    private var next: Int
    /// Images before this one are appended; their slots are free.
    private var appended: Int
    /// Images before this one are all prepared (the ready prefix), and which after it are.
    private var prefix: Int
    private var done: [Bool]
    /// What the appending thread waits for: the ready prefix reaching this.
    private var awaited = Int.max
    private var stopped = false

    init(range: Range<Int>, slots: Int, batch: Int) {
        self.range = range
        self.slots = slots
        self.batch = batch
        next = range.lowerBound
        appended = range.lowerBound
        prefix = range.lowerBound
        done = [Bool](repeating: false, count: slots)
    }

    /// The next image to prepare and the seconds spent waiting for its slot; nil when none is left
    /// or the run stopped.
    func take() -> (index: Int, waited: Double)? {
        condition.lock()
        defer { condition.unlock() }
        var waitedSince: UInt64?
        while !stopped && next < range.upperBound && next >= appended + slots {
            if waitedSince == nil { waitedSince = DispatchTime.now().uptimeNanoseconds }
            condition.wait()
        }
        guard !stopped && next < range.upperBound else { return nil }
        defer { next += 1 }
        return (next, waitedSince.map { Double(DispatchTime.now().uptimeNanoseconds - $0) / 1e9 } ?? 0)
    }

    /// Marks image `index` prepared (its outcome is in its slot).
    func finished(_ index: Int) {
        condition.lock()
        defer { condition.unlock() }
        done[index % slots] = true
        extendPrefix()
        if prefix >= awaited { condition.broadcast() }
    }

    /// Moves the ready prefix over the prepared images after it whose slots are theirs (not those
    /// of images still waiting to be appended). Called holding the lock.
    private func extendPrefix() {
        while prefix < range.upperBound && prefix < appended + slots && done[prefix % slots] { prefix += 1 }
    }

    /// Waits until the images from `start` on are ready, `batch` of them or up to the end, and
    /// returns the end of the ready run (more than `start`).
    func ready(from start: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        awaited = min(start + batch, range.upperBound)
        while prefix < awaited { condition.wait() }
        awaited = Int.max
        return prefix
    }

    /// Images before `index` are appended: their slots are free again.
    func appended(through index: Int) {
        condition.lock()
        defer { condition.unlock() }
        for i in appended..<index { done[i % slots] = false }
        appended = index
        extendPrefix()  // it may go on into slots that were waiting for this
        condition.broadcast()
    }

    /// No image is handed out from now on (the running ones finish).
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
    }
}

// MARK: - The ring of records

/// The records of `slots` images, their checksums, and how each image went. A slot is written by
/// the worker that prepares its image, then read by the appending thread; ``Schedule`` orders the
/// two.
private final class Ring: @unchecked Sendable {
    let slots: Int
    let copies: Int
    let layout: RecordLayout
    let records: UnsafeMutableRawBufferPointer
    let checksums: UnsafeMutableBufferPointer<UInt64>
    let outcomes: UnsafeMutableBufferPointer<ShardPreparation.Outcome>

    init(slots: Int, copies: Int, layout: RecordLayout) {
        self.slots = slots
        self.copies = copies
        self.layout = layout
        // Not cleared: a record is used only once its worker has written every byte of it (the
        // image, then the fields and padding), so its pages are first touched by the workers, in
        // parallel, rather than all at once here (fresh pages are slow to touch on these VMs).
        records = .allocate(byteCount: slots * copies * layout.stride, alignment: 64)
        checksums = .allocate(capacity: slots * copies)
        checksums.initialize(repeating: 0)
        outcomes = .allocate(capacity: slots)
        outcomes.initialize(repeating: .pending)
    }

    deinit {
        records.deallocate()
        checksums.deallocate()
        outcomes.deinitialize()
        outcomes.deallocate()
    }

    /// The record of `copy` of image `index` (`layout.stride` bytes).
    func record(_ index: Int, copy: Int) -> UnsafeMutableRawBufferPointer {
        let offset = ((index % slots) * copies + copy) * layout.stride
        return UnsafeMutableRawBufferPointer(rebasing: records[offset..<offset + layout.stride])
    }

    /// The XXH64 of `copy` of image `index`.
    func checksum(_ index: Int, copy: Int) -> UInt64 { checksums[(index % slots) * copies + copy] }

    /// How image `index` went.
    func outcome(_ index: Int) -> ShardPreparation.Outcome { outcomes[index % slots] }

    /// Renders every copy of `item` (image `index`) into its slot's records, completes them and
    /// takes their checksums; notes how it went in the slot.
    func prepare(_ item: PreparationItem, index: Int, with preparer: any RecordPreparer) {
        outcomes[index % slots] = render(item, index: index, with: preparer)
    }

    private func render(_ item: PreparationItem, index: Int, with preparer: any RecordPreparer) -> ShardPreparation.Outcome {
        var warning: String?
        do {
            for copy in 0..<copies {
                let record = record(index, copy: copy)
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
                checksums[(index % slots) * copies + copy] = XXHash64.hash(UnsafeRawBufferPointer(record))
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

/// Appends prepared images to the writer in input order and keeps the report; stops at the first
/// failure (a decode error under `.fail`, or a writer error). Used by the calling thread alone.
private final class Appender {
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

    func append(_ index: Int, ring: Ring) {
        guard failure == nil else { return }
        do {
            switch ring.outcome(index) {
            case .failed(let error):
                if onError == .fail { throw error }
                report.skipped.append(error)
            case .prepared(let warning):
                if let warning { report.warnings.append((items[index].path, warning)) }
                for copy in 0..<copies {
                    try writer.append(
                        record: UnsafeRawBufferPointer(ring.record(index, copy: copy)), checksum: ring.checksum(index, copy: copy))
                }
                report.written += 1
            case .invalid(let error):
                throw error
            case .pending:
                preconditionFailure("image \(index) was not prepared")
            }
        } catch {
            failure = error
        }
    }
}
