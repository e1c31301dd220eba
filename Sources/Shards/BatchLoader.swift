import Dispatch
import Foundation
import Support

// MARK: - Options and batches

/// How ``BatchLoader`` shapes batches.
public struct BatchOptions: Sendable, Hashable {
    /// Memory order of each batch's images.
    public enum ImageLayout: String, Sendable, Hashable, CaseIterable {
        /// batch × height × width × channels (what Keras uses).
        case nhwc
        /// batch × channels × height × width (what PyTorch and oneDNN's plain layout use).
        case nchw
    }

    /// What each image value is.
    public enum Element: String, Sendable, Hashable, CaseIterable {
        /// Each stored byte times the spec's rescale, as Float32 (what a model takes).
        case float32
        /// The stored (or rendered) bytes as they are, 0…255.
        case uint8

        /// Bytes per value.
        public var size: Int { self == .float32 ? 4 : 1 }
    }

    /// How labels are delivered.
    public enum LabelEncoding: String, Sendable, Hashable {
        /// One Int32 class index per sample (``Batch/labels``).
        case indices
        /// One Float32 one-hot row of `classNames.count` per sample (``Batch/oneHot``).
        case oneHot
    }

    /// The largest batch accepted by the command line and the engine.
    public static let maximumBatchSize = 65_536

    /// Samples per batch (the last batch of an epoch may be shorter unless `dropLast`).
    public var batchSize: Int
    public var layout: ImageLayout
    public var element: Element
    public var labels: LabelEncoding
    /// Shuffle every epoch (a permutation from `seed` and the epoch number): globally, or shard by
    /// shard when ``shardWindow`` is set.
    public var shuffle: Bool
    /// With `shuffle`, the shard-aware order: the shards in a new order every epoch, and the samples
    /// shuffled within each window of this many consecutive shards of that order
    /// (``EpochOrder/samples(imagesPerCopy:copies:epoch:shuffle:seed:shardWindow:shardStarts:)``), so a
    /// reader needs only a window of shards at a time. Nil: a global shuffle.
    public var shardWindow: Int?
    public var seed: UInt64
    /// Batches prepared ahead of the consumer: the size of the ring of reused buffers.
    public var prefetch: Int
    /// Worker threads filling batches (nil in `init`: all cores).
    public var threads: Int
    /// Leave out the last, short batch of each epoch.
    public var dropLast: Bool
    /// Check every record's checksum as it is read (a damaged record fails the batch with
    /// ``ShardError/Code/checksumMismatch`` naming shard and sample).
    public var verifyChecksums: Bool
    /// This reader's rank among `worldSize` readers that share each epoch (0-based).
    public var rank: Int
    /// Readers sharing each epoch: rank `r` reads every `worldSize`-th sample of the epoch's order
    /// from position `r` (``EpochOrder/share(of:rank:worldSize:batchSize:dropLast:)``).
    public var worldSize: Int

    public init(
        batchSize: Int, layout: ImageLayout = .nhwc, element: Element = .float32, labels: LabelEncoding = .indices,
        shuffle: Bool = true, seed: UInt64 = 0, prefetch: Int = 4,
        threads: Int? = nil, dropLast: Bool = false,
        verifyChecksums: Bool = true, rank: Int = 0, worldSize: Int = 1, shardWindow: Int? = nil
    ) {
        self.batchSize = batchSize
        self.layout = layout
        self.element = element
        self.labels = labels
        self.shuffle = shuffle
        self.seed = seed
        self.prefetch = prefetch
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.dropLast = dropLast
        self.verifyChecksums = verifyChecksums
        self.rank = rank
        self.worldSize = worldSize
        self.shardWindow = shardWindow
    }

    /// The largest shard window accepted.
    public static let maximumShardWindow = 1 << 20
}

/// One batch, valid until the next call to ``Epoch/next()`` (its memory is a reused ring slot).
public struct Batch {
    /// The batch's number within the epoch (0-based).
    public let index: Int
    /// Samples in it.
    public let count: Int
    /// `count` images of ``BatchOptions/element`` values in the requested layout.
    public let imageBytes: UnsafeRawBufferPointer
    /// Class indices, when labels are `indices`.
    public let labels: UnsafeBufferPointer<Int32>?
    /// `count × classes` one-hot rows, when labels are `oneHot`.
    public let oneHot: UnsafeBufferPointer<Float>?
    /// The global sample indices the batch holds, in order.
    public let samples: ArraySlice<Int>

    /// The images as Float32 values.
    /// - Precondition: the loader's element is ``BatchOptions/Element/float32``.
    public var images: UnsafeBufferPointer<Float> {
        precondition(imageBytes.count % 4 == 0, "a uint8 batch has no Float32 images")
        return imageBytes.bindMemory(to: Float.self)
    }
}

/// Memory for one ring slot that the caller owns (``BatchLoader/init(set:options:transformation:ring:)``):
/// room for a whole batch of images of the loader's element type and its Int32 labels.
public struct BatchMemory: @unchecked Sendable {
    /// `batchSize × elementCount × element.size` bytes, aligned for the element type.
    public var images: UnsafeMutableRawPointer
    /// `batchSize` labels.
    public var labels: UnsafeMutablePointer<Int32>

    public init(images: UnsafeMutableRawPointer, labels: UnsafeMutablePointer<Int32>) {
        self.images = images
        self.labels = labels
    }
}

// MARK: - Per-sample transforms

/// Renders one stored sample into the image the model takes, inside the reader's workers: what
/// fresh per-epoch augmentation (and resizing stored images to another model size) plugs into.
/// Shards defines only the seam; the `Augment` module implements it.
///
/// Each worker thread owns one instance for the loader's life (made by
/// ``SampleTransformation/makeWorker``), so an implementation may keep scratch buffers and need not
/// be thread-safe. The output must be a pure function of (stored bytes, `sample`, `epoch`): never
/// of the worker, the thread count or the prefetch depth, which is what keeps batches identical
/// whatever those are.
public protocol SampleTransform: AnyObject {
    /// Writes the transformed image of sample `sample` in epoch `epoch` (0-based) into `output`.
    /// - Parameters:
    ///   - stored: the sample's stored image (the set's ``ImageSpec/byteCount`` bytes, HWC).
    ///   - sample: the sample's global index in the set.
    ///   - epoch: the epoch being read (0-based), so each epoch can draw fresh parameters.
    ///   - output: exactly the output spec's ``ImageSpec/byteCount`` bytes, HWC; every byte must be
    ///     written.
    func render(stored: UnsafeRawBufferPointer, sample: Int, epoch: Int, into output: UnsafeMutableRawBufferPointer)
}

/// A per-sample transform for ``BatchLoader``: the image spec it produces and how to make one
/// ``SampleTransform`` per worker.
public struct SampleTransformation: Sendable {
    /// What each rendered image is: its size and channels shape the batches, its rescale converts
    /// them to Float32. Its channels must be the set's.
    public var output: ImageSpec
    /// Makes one worker's transform (called once per worker thread when the loader is created).
    public var makeWorker: @Sendable () -> any SampleTransform

    /// - Parameters:
    ///   - output: the spec of the rendered images (the model's input spec).
    ///   - makeWorker: makes one worker's transform; each instance is used by one thread only.
    public init(output: ImageSpec, makeWorker: @escaping @Sendable () -> any SampleTransform) {
        self.output = output
        self.makeWorker = makeWorker
    }
}

// MARK: - Epoch order

/// The order samples are read in one epoch.
public enum EpochOrder {
    /// Sample indices for `epoch`: copy `epoch mod copies` of every image (sample
    /// `image · copies + copy`), shuffled with a permutation derived from `seed` and `epoch` alone
    /// (not from threads, prefetch depth or what is cached):
    /// - globally (`shardWindow` nil): one Fisher–Yates permutation of every image;
    /// - shard-aware (`shardWindow` K): the images are grouped by the shard holding their sample
    ///   (`shardStarts[k]` is shard k's first sample, plus a final total), the groups put in a
    ///   random order, and the images of each window of K consecutive groups of that order
    ///   shuffled together: an epoch reads the shards one window at a time, each shard once.
    /// Without `shuffle`, the images in order.
    public static func samples(
        imagesPerCopy: Int, copies: Int, epoch: Int, shuffle: Bool, seed: UInt64, shardWindow: Int? = nil, shardStarts: [Int] = []
    ) -> [Int] {
        var images = Array(0..<imagesPerCopy)
        let copy = epoch % copies
        if shuffle {
            var rng = SplitMix64(seed: seed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1)))
            if let window = shardWindow, shardStarts.count > 2 {
                images = shardWindows(images, copies: copies, copy: copy, window: max(1, window), shardStarts: shardStarts, rng: &rng)
            } else {
                shuffleInPlace(&images[...], rng: &rng)
            }
        }
        return copies == 1 ? images : images.map { $0 * copies + copy }
    }

    /// Fisher–Yates over `items` with `rng`.
    private static func shuffleInPlace(_ items: inout ArraySlice<Int>, rng: inout SplitMix64) {
        let base = items.startIndex
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(base + i, base + Int(rng.next() % UInt64(i + 1)))
        }
    }

    /// The shard-aware order of `images` (see ``samples(imagesPerCopy:copies:epoch:shuffle:seed:shardWindow:shardStarts:)``).
    private static func shardWindows(
        _ images: [Int], copies: Int, copy: Int, window: Int, shardStarts: [Int], rng: inout SplitMix64
    ) -> [Int] {
        // The images whose sample lies in each shard: contiguous runs, since samples grow with images.
        var groups: [Range<Int>] = []
        var image = 0
        for shard in 0..<(shardStarts.count - 1) where image < images.count {
            let end = shardStarts[shard + 1]
            var last = image
            while last < images.count && last * copies + copy < end { last += 1 }
            if last > image { groups.append(image..<last) }
            image = last
        }
        var order = Array(groups.indices)
        shuffleInPlace(&order[...], rng: &rng)
        var result: [Int] = []
        result.reserveCapacity(images.count)
        for start in stride(from: 0, to: order.count, by: window) {
            let first = result.count
            for group in order[start..<min(start + window, order.count)] { result.append(contentsOf: groups[group]) }
            shuffleInPlace(&result[first...], rng: &rng)
        }
        return result
    }

    /// Rank `rank`'s share of an epoch's `order` among `worldSize` readers (as PyTorch's
    /// `DistributedSampler` divides it): every `worldSize`-th sample from position `rank`, so the
    /// ranks' shares are disjoint and together hold the epoch once. With `dropLast`, the order is
    /// first cut to a multiple of `worldSize × batchSize`, so every rank reads the same number of
    /// full batches. With one reader it is the order itself (cut to whole batches with `dropLast`).
    public static func share(of order: [Int], rank: Int, worldSize: Int, batchSize: Int, dropLast: Bool) -> [Int] {
        let usable = sharedCount(order.count, worldSize: worldSize, batchSize: batchSize, dropLast: dropLast)
        guard worldSize > 1 else { return Array(order[0..<usable]) }
        return stride(from: rank, to: usable, by: worldSize).map { order[$0] }
    }

    /// How many samples of an epoch of `count` the shares of ``share(of:rank:worldSize:batchSize:dropLast:)`` hold together.
    static func sharedCount(_ count: Int, worldSize: Int, batchSize: Int, dropLast: Bool) -> Int {
        dropLast ? count / (worldSize * batchSize) * (worldSize * batchSize) : count
    }

    /// Samples in rank `rank`'s share of an epoch of `count` samples.
    public static func shareCount(_ count: Int, rank: Int, worldSize: Int, batchSize: Int, dropLast: Bool) -> Int {
        let usable = sharedCount(count, worldSize: worldSize, batchSize: batchSize, dropLast: dropLast)
        return rank < usable ? (usable - rank + worldSize - 1) / worldSize : 0
    }
}

// MARK: - Loader

/// Reads a ``ShardSet`` as batches, prepared ahead by worker threads into a ring of buffers
/// allocated once for the loader's life (or given by the caller) and reused every epoch, so memory
/// stays bounded.
///
/// With a ``SampleTransformation``, each worker renders every sample through its own
/// ``SampleTransform`` into a byte buffer allocated once, then converts it with the output spec's
/// rescale into the ring slot: no allocation per sample.
///
/// Every batch is a pure function of (set, options, transformation, epoch, batch number): never of
/// the thread count or prefetch depth. Read one epoch at a time: start it with
/// ``epoch(_:from:)`` and call ``Epoch/next()`` until nil. Starting an epoch cancels and waits out
/// any unfinished one.
public final class BatchLoader: @unchecked Sendable {
    public let set: ShardSet
    public let options: BatchOptions
    /// The per-sample transform, if any.
    public let transformation: SampleTransformation?
    /// What each batch image is: the transformation's output, or the set's spec.
    public let outputSpec: ImageSpec
    fileprivate let ring: [Slot]
    fileprivate let sampleValues: Int
    fileprivate let workerStates: [WorkerState]
    fileprivate let scratches: [RowScratch]
    private let starting = NSLock()
    private var running: Epoch?

    /// The most bytes the ring of prefetched batches may take (8 GiB).
    public static let maximumRingBytes = 8 << 30

    /// - Parameters:
    ///   - transformation: renders each sample before it is converted (nil: the stored bytes as
    ///     they are).
    ///   - ring: caller-owned memory for the ring's slots, one per prefetched batch
    ///     (`options.prefetch` of them), each as ``BatchMemory`` describes; it must stay valid for
    ///     the loader's life. Nil: the loader allocates the ring. One-hot labels always live in
    ///     the loader's own memory.
    /// - Throws: ``ShardError`` `invalidArgument` for a batch size, prefetch or thread count below
    ///   1, a rank outside `0..<worldSize`, a ring of prefetched batches over
    ///   ``maximumRingBytes``, a `ring` of another length than the prefetch depth, or a
    ///   transformation whose output spec is invalid or has other channels than the set.
    public init(set: ShardSet, options: BatchOptions, transformation: SampleTransformation? = nil, ring memory: [BatchMemory]? = nil) throws
    {
        guard options.batchSize >= 1, options.prefetch >= 1, options.threads >= 1 else {
            throw ShardError(.invalidArgument, "batch size, prefetch and threads must be at least 1")
        }
        if let window = options.shardWindow, !(1...BatchOptions.maximumShardWindow).contains(window) {
            throw ShardError(.invalidArgument, "the shard window must be 1...\(BatchOptions.maximumShardWindow) shards, got \(window)")
        }
        guard options.worldSize >= 1, (0..<options.worldSize).contains(options.rank) else {
            throw ShardError(.invalidArgument, "the rank must be in 0..<world size (\(options.worldSize)), got \(options.rank)")
        }
        if let memory, memory.count != options.prefetch {
            throw ShardError(.invalidArgument, "\(memory.count) ring buffers given for a prefetch depth of \(options.prefetch)")
        }
        let output = transformation?.output ?? set.manifest.spec
        if transformation != nil {
            try output.validate()
            guard output.channels == set.layout.channels else {
                throw ShardError(
                    .invalidArgument,
                    "a sample transform must keep the channels: the set has \(set.layout.channels), the transform gives \(output.channels)")
            }
        }
        try Self.checkRing(options, output: output)
        self.set = set
        self.options = options
        self.transformation = transformation
        outputSpec = output
        sampleValues = output.elementCount
        let classes = set.manifest.classNames.count
        let oneHot = options.labels == .oneHot ? options.batchSize * classes : 0
        ring = (0..<options.prefetch).map { k in
            if let memory { return Slot(memory[k], oneHot: oneHot) }
            return Slot(
                imageBytes: options.batchSize * output.elementCount * options.element.size, labels: options.batchSize, oneHot: oneHot)
        }
        scratches = (0..<options.threads).map { _ in RowScratch(capacity: options.batchSize) }
        workerStates =
            transformation.map { transformation in
                (0..<options.threads).map { _ in WorkerState(transform: transformation.makeWorker(), bytes: output.byteCount) }
            } ?? []
    }

    deinit { running?.cancel() }

    /// Checks that a ring of `options.prefetch` batches of `output` images stays within
    /// ``maximumRingBytes``.
    /// - Throws: ``ShardError`` `invalidArgument` saying how much it would take.
    public static func checkRing(_ options: BatchOptions, output: ImageSpec) throws(ShardError) {
        let ringBytes = Double(options.prefetch) * Double(options.batchSize) * Double(output.elementCount) * Double(options.element.size)
        guard ringBytes <= Double(Self.maximumRingBytes) else {
            throw ShardError(
                .invalidArgument,
                "\(options.prefetch) prefetched batches of \(options.batchSize) images of \(output) need "
                    + "\(Int(ringBytes / 1_048_576)) MiB, over the limit of \(Self.maximumRingBytes >> 20) MiB: use a smaller batch size")
        }
    }

    /// Samples this reader reads per epoch: its rank's share of one copy of every image.
    public var samplesPerEpoch: Int {
        EpochOrder.shareCount(
            set.manifest.imagesPerCopy, rank: options.rank, worldSize: options.worldSize, batchSize: options.batchSize,
            dropLast: options.dropLast)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int {
        let n = samplesPerEpoch, b = options.batchSize
        return options.dropLast ? n / b : (n + b - 1) / b
    }

    /// The global sample indices this reader reads in epoch `epoch` (0-based), in order.
    public func order(epoch: Int) -> [Int] {
        let order = EpochOrder.samples(
            imagesPerCopy: set.manifest.imagesPerCopy, copies: set.manifest.copies,
            epoch: epoch, shuffle: options.shuffle, seed: options.seed, shardWindow: options.shardWindow, shardStarts: set.starts)
        return EpochOrder.share(
            of: order, rank: options.rank, worldSize: options.worldSize, batchSize: options.batchSize, dropLast: options.dropLast)
    }

    /// Starts epoch `epoch` (0-based) at batch `first` (0 ..< ``batchesPerEpoch``; the batches
    /// before it are skipped, not read) and returns its batches in order. Batch `k` is the same
    /// whichever batch the epoch started at.
    public func epoch(_ epoch: Int, from first: Int = 0) -> Epoch {
        starting.lock()
        defer { starting.unlock() }
        running?.cancel()
        let started = Epoch(loader: self, epoch: epoch, order: order(epoch: epoch), batches: batchesPerEpoch, first: first)
        running = started
        return started
    }

    /// Fills `slot` with the samples `samples` of epoch `epoch`, rendering through worker
    /// `worker`'s transform when there is one.
    ///
    /// The rows are filled shard by shard, in the order the batch first needs them (each shard
    /// pinned once for all its rows of the batch, then released), so a store whose cache holds fewer shards than a batch touches still
    /// serves it; the bytes of each row do not depend on that order.
    fileprivate func fill(_ slot: Slot, with samples: ArraySlice<Int>, epoch: Int, worker: Int) throws {
        let scratch = scratches[worker]
        scratch.rows.removeAll(keepingCapacity: true)
        scratch.shards.removeAll(keepingCapacity: true)
        for (row, index) in samples.enumerated() {
            let (shard, local) = set.locate(index)
            var rank = scratch.shards.lastIndex(of: shard) ?? -1
            if rank < 0 {
                rank = scratch.shards.count
                scratch.shards.append(shard)
            }
            scratch.rows.append(RowPlace(shard: shard, rank: rank, local: local, row: row, sample: index))
        }
        // Shard by shard in the order the batch first needs them (the order of the store's hint).
        scratch.rows.sort { ($0.rank, $0.row) < ($1.rank, $1.row) }
        var start = 0
        while start < scratch.rows.count {
            let shard = scratch.rows[start].shard
            var end = start + 1
            while end < scratch.rows.count && scratch.rows[end].shard == shard { end += 1 }
            try set.withShard(shard) { records in
                for place in scratch.rows[start..<end] {
                    try fill(slot, row: place.row, from: records, local: place.local, sample: place.sample, epoch: epoch, worker: worker)
                }
            }
            start = end
        }
    }

    /// Fills row `row` of `slot` with record `local` of the pinned shard `records` (global sample
    /// `index`), rendered through worker `worker`'s transform when there is one.
    private func fill(
        _ slot: Slot, row: Int, from records: ShardRecords, local: Int, sample index: Int, epoch: Int, worker: Int
    ) throws {
        let spec = outputSpec, scale = spec.rescale  // as ImageSpec.values(of:layout:into:)
        let pixels = spec.height * spec.width, channels = spec.channels, values = sampleValues
        if options.verifyChecksums && !records.recordIsIntact(local) {
            throw ShardError(.checksumMismatch, "record bytes do not match their checksum", file: records.location, sample: local)
        }
        let source: UnsafeBufferPointer<UInt8>
        if workerStates.isEmpty {
            source = records.image(local).bindMemory(to: UInt8.self)
        } else {
            let state = workerStates[worker]
            state.transform.render(stored: records.image(local), sample: index, epoch: epoch, into: state.bytes)
            source = UnsafeBufferPointer(state.bytes.bindMemory(to: UInt8.self))
        }
        switch (options.element, options.layout) {
        case (.float32, .nhwc):
            let destination = slot.images.bindMemory(to: Float.self, capacity: (row + 1) * values) + row * values
            for i in 0..<values { destination[i] = Float(source[i]) * scale }
        case (.float32, .nchw):
            let destination = slot.images.bindMemory(to: Float.self, capacity: (row + 1) * values) + row * values
            for c in 0..<channels {
                let plane = destination + c * pixels
                for p in 0..<pixels { plane[p] = Float(source[p * channels + c]) * scale }
            }
        case (.uint8, .nhwc):
            (slot.images + row * values).copyMemory(from: source.baseAddress!, byteCount: values)
        case (.uint8, .nchw):
            let destination = slot.images.bindMemory(to: UInt8.self, capacity: (row + 1) * values) + row * values
            for c in 0..<channels {
                let plane = destination + c * pixels
                for p in 0..<pixels { plane[p] = source[p * channels + c] }
            }
        }
        let label = try records.label(local)  // refuses a label outside the class list
        slot.labels[row] = Int32(label)
        if options.labels == .oneHot {
            let classes = set.manifest.classNames.count
            let oneHot = slot.oneHot + row * classes
            for c in 0..<classes { oneHot[c] = c == label ? 1 : 0 }
        }
    }
}

/// Where one row of a batch comes from: its shard, its index there, and its global sample.
fileprivate struct RowPlace {
    var shard: Int
    /// The shard's place among the batch's shards, in first-use order.
    var rank: Int
    var local: Int
    var row: Int
    var sample: Int
}

/// One worker's list of the rows of the batch in hand, reused for every batch (its capacity is
/// reserved once).
fileprivate final class RowScratch: @unchecked Sendable {
    var rows: [RowPlace] = []
    /// The batch's distinct shards, in first-use order.
    var shards: [Int] = []

    init(capacity: Int) {
        rows.reserveCapacity(capacity)
        shards.reserveCapacity(capacity)
    }
}

/// One worker's transform and the byte buffer it renders into, allocated once.
fileprivate final class WorkerState: @unchecked Sendable {
    let transform: any SampleTransform
    let bytes: UnsafeMutableRawBufferPointer

    init(transform: any SampleTransform, bytes count: Int) {
        self.transform = transform
        bytes = .allocate(byteCount: count, alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { bytes.deallocate() }
}

/// One ring slot: buffers for a whole batch, allocated once (or the caller's).
fileprivate final class Slot: @unchecked Sendable {
    let images: UnsafeMutableRawPointer
    let labels: UnsafeMutablePointer<Int32>
    let oneHot: UnsafeMutablePointer<Float>
    /// Whether `images` and `labels` are the slot's own (deallocated with it).
    private let owned: Bool
    /// The batch the slot holds (or is being filled with), -1 when free.
    var batch = -1
    var ready = false
    var failure: (any Error)?

    init(imageBytes: Int, labels: Int, oneHot: Int) {
        images = .allocate(byteCount: max(imageBytes, 1), alignment: 64)
        images.initializeMemory(as: UInt8.self, repeating: 0, count: imageBytes)  // touch once, up front
        self.labels = .allocate(capacity: labels)
        self.oneHot = .allocate(capacity: max(oneHot, 1))
        owned = true
    }

    init(_ memory: BatchMemory, oneHot: Int) {
        images = memory.images
        labels = memory.labels
        self.oneHot = .allocate(capacity: max(oneHot, 1))
        owned = false
    }

    deinit {
        if owned {
            images.deallocate()
            labels.deallocate()
        }
        oneHot.deallocate()
    }
}

// MARK: - Epoch

/// The batches of one epoch, produced by worker threads ahead of the consumer.
public final class Epoch: @unchecked Sendable {
    private let loader: BatchLoader
    private let epoch: Int
    private let order: [Int]
    private let batches: Int
    /// The batch the epoch started at.
    private let first: Int
    private let condition = NSCondition()
    private let workers = DispatchGroup()
    private var nextToFill = 0
    private var nextToRead = 0
    private var cancelled = false
    private var waited: UInt64 = 0
    /// For a store that fetches (not a local one): the distinct shards each batch reads, in
    /// first-use order, from which the store is told what comes next.
    private let batchShards: [[Int]]

    /// The most shards one prefetch hint names.
    private static let hintShards = 64

    fileprivate init(loader: BatchLoader, epoch: Int, order: [Int], batches: Int, first: Int) {
        self.loader = loader
        self.epoch = epoch
        self.order = order
        self.batches = batches
        self.first = min(max(first, 0), batches)
        nextToFill = self.first
        nextToRead = self.first
        let set = loader.set
        if set.store is LocalShardStore {
            batchShards = []
        } else {
            let size = loader.options.batchSize
            batchShards = stride(from: 0, to: order.count, by: size).map { start in
                var seen: [Int] = []
                for index in order[start..<min(start + size, order.count)] {
                    let shard = set.locate(index).shard
                    if !seen.contains(shard) { seen.append(shard) }
                }
                return seen
            }
        }
        for slot in loader.ring { slot.batch = -1; slot.ready = false; slot.failure = nil }
        for worker in 0..<min(loader.options.threads, max(batches - nextToRead, 1)) {
            DispatchQueue.global(qos: .userInitiated).async(group: workers) { self.work(worker) }
        }
    }

    deinit { cancel() }

    /// Seconds the consumer has spent waiting in ``next()`` for a batch that was not ready yet.
    public var stallSeconds: Double {
        condition.lock()
        defer { condition.unlock() }
        return Double(waited) / 1e9
    }

    /// The next batch, or nil after the last. Blocks until it is ready; the previous batch's memory
    /// is reused from this call on.
    /// - Throws: ``ShardError`` `checksumMismatch` when a record in the batch is damaged, or
    ///   `cancelled` after ``cancel()``.
    public func next() throws -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        if nextToRead > first {  // hand the previous batch's slot back to the workers
            let previous = loader.ring[(nextToRead - 1) % loader.ring.count]
            previous.batch = -1
            previous.ready = false
            condition.broadcast()
        }
        guard nextToRead < batches else { return nil }
        let number = nextToRead
        let slot = loader.ring[number % loader.ring.count]
        let start = DispatchTime.now().uptimeNanoseconds
        while !(slot.batch == number && slot.ready) && !cancelled { condition.wait() }
        waited += DispatchTime.now().uptimeNanoseconds - start
        if cancelled { throw ShardError(.cancelled, "the epoch was cancelled") }
        if let failure = slot.failure { throw failure }
        nextToRead += 1
        let range = range(of: number)
        let options = loader.options
        let classes = loader.set.manifest.classNames.count
        return Batch(
            index: number, count: range.count,
            imageBytes: UnsafeRawBufferPointer(start: slot.images, count: range.count * loader.sampleValues * options.element.size),
            labels: options.labels == .indices ? UnsafeBufferPointer(start: slot.labels, count: range.count) : nil,
            oneHot: options.labels == .oneHot ? UnsafeBufferPointer(start: slot.oneHot, count: range.count * classes) : nil,
            samples: order[range])
    }

    /// Stops the workers and waits for them (promptly: each finishes at most the batch in hand).
    /// Later calls to ``next()`` throw `cancelled`.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        workers.wait()
    }

    private func range(of batch: Int) -> Range<Int> {
        let size = loader.options.batchSize
        return batch * size..<min((batch + 1) * size, order.count)
    }

    /// Tells the store which shards batches `batch`, `batch + 1`, ... read, soonest first (up to
    /// ``hintShards`` of them).
    private func hint(from batch: Int) {
        guard !batchShards.isEmpty else { return }
        var upcoming: [Int] = []
        for shards in batchShards[min(batch, batchShards.count)...] {
            for shard in shards where !upcoming.contains(shard) { upcoming.append(shard) }
            if upcoming.count >= Self.hintShards { break }
        }
        loader.set.store.prefetch(upcoming)
    }

    /// Worker `worker`: claims batches in order, waits for its ring slot to be free, fills it.
    private func work(_ worker: Int) {
        while true {
            condition.lock()
            guard !cancelled, nextToFill < batches else { condition.unlock(); return }
            let number = nextToFill
            nextToFill += 1
            let slot = loader.ring[number % loader.ring.count]
            // The slot is this batch's once the consumer has moved past its previous occupant
            // (batch number − ring size); checking the number, not only that the slot is free,
            // keeps a later batch from taking it first.
            while !(slot.batch == -1 && number - loader.ring.count < nextToRead) && !cancelled { condition.wait() }
            if cancelled { condition.unlock(); return }
            slot.batch = number
            condition.unlock()
            hint(from: number)

            var failure: (any Error)?
            do { try loader.fill(slot, with: order[range(of: number)], epoch: epoch, worker: worker) } catch { failure = error }

            condition.lock()
            slot.failure = failure
            slot.ready = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
