// One loader behind a `dp_loader` handle: the set, its options, the reader over the caller's ring,
// and the epoch being read.
import Augment
import Foundation
import Shards

/// The state behind one `dp_loader`: a shard set opened with checked options, the reader (made
/// when the caller attaches its ring) and the epoch in progress. Every call takes a lock, so a
/// handle shared between threads by mistake is serialized, never corrupted.
final class EngineLoader {
    let configuration: LoaderConfiguration
    let set: ShardSet
    let options: BatchOptions
    /// What each batch image is.
    let output: ImageSpec
    private let transformation: SampleTransformation?
    private var loader: BatchLoader?
    private var epoch: Epoch?
    private let lock = NSLock()

    /// The most epochs a loader counts to (its epoch numbers stay far from overflow).
    static let maximumEpoch = 1 << 40

    /// Opens the set and checks the options against it.
    /// - Throws: ``EngineError``: `invalidArgument` naming the option at fault, or the set's
    ///   ``ShardError`` (`manifestMismatch`, `missingShard`, ...) naming the file.
    init(json: String) throws(EngineError) {
        configuration = try LoaderConfiguration(json: json)
        set = try configuration.remote.open(configuration.path)
        let input = configuration.input, stored = set.manifest.spec
        do { try input.check(set.manifest, in: set.directory) } catch { throw EngineError.invalid("augment", error.message) }
        output = input.modelSpec(stored: stored)
        if let rescale = configuration.rescale, Float(rescale) != output.rescale {
            throw EngineError.invalid(
                "rescale",
                "the set's values are rescaled by \(output.rescale) (its spec, recorded by pack); \(rescale) cannot be applied "
                    + "(leave rescale out, or give the set's)")
        }
        transformation = input.transformation(stored: stored, model: output, seed: configuration.seed)
        options = configuration.batchOptions
        do { try BatchLoader.checkRing(options, output: output) } catch { throw EngineError.invalid("batch_size", error.message) }
    }

    deinit { epoch?.cancel() }

    // MARK: Calls

    /// The JSON of `dp_loader_describe`.
    func describe() -> String {
        lock.withLock {
            let manifest = set.manifest
            let description = Description(
                height: output.height, width: output.width, channels: output.channels, rescale: output.rescale,
                resize: output.resize.rawValue, elementSize: options.element.size, batchSize: options.batchSize,
                prefetch: options.prefetch,
                samplesPerEpoch: EpochOrder.shareCount(
                    manifest.imagesPerCopy, rank: options.rank, worldSize: options.worldSize, batchSize: options.batchSize,
                    dropLast: options.dropLast),
                classNames: manifest.classNames,
                set: .init(
                    directory: set.directory, count: manifest.count, copies: manifest.copies, imagesPerCopy: manifest.imagesPerCopy,
                    split: manifest.split, spec: manifest.spec.description, digests: manifest.shards.map(\.digest)))
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = .sortedKeys
            return String(decoding: (try? encoder.encode(description)) ?? Data("{}".utf8), as: UTF8.self)
        }
    }

    /// Makes the reader over the caller's ring (one image and one label buffer per slot).
    /// - Throws: ``EngineError`` `misuse` when a ring is already attached, `invalidArgument` for a
    ///   slot count other than the prefetch depth or a null buffer.
    func attach(images: [UnsafeMutableRawPointer?], labels: [UnsafeMutablePointer<Int32>?]) throws(EngineError) {
        try locked { () throws(EngineError) in
            guard loader == nil else { throw .misuse("the loader already has its ring") }
            guard images.count == options.prefetch, labels.count == options.prefetch else {
                throw .invalid("prefetch", "\(images.count) ring slots given for a prefetch depth of \(options.prefetch)")
            }
            var memory: [BatchMemory] = []
            for (image, label) in zip(images, labels) {
                guard let image, let label else { throw .invalid("prefetch", "a ring buffer is null") }
                memory.append(BatchMemory(images: image, labels: label))
            }
            do { loader = try BatchLoader(set: set, options: options, transformation: transformation, ring: memory) } catch {
                throw EngineError(error)
            }
        }
    }

    /// Starts epoch `number` at batch `first`, cancelling the one in progress.
    func start(epoch number: Int, first: Int) throws(EngineError) {
        try locked { () throws(EngineError) in
            let loader = try attached()
            guard (0...Self.maximumEpoch).contains(number) else {
                throw .invalid("epoch", "must be in 0...\(Self.maximumEpoch), got \(number)")
            }
            guard (0...loader.batchesPerEpoch).contains(first) else {
                throw .invalid("batch", "must be in 0...\(loader.batchesPerEpoch) (the batches per epoch), got \(first)")
            }
            epoch?.cancel()
            epoch = loader.epoch(number, from: first)
        }
    }

    /// The next batch of the started epoch, nil after the last.
    func next() throws(EngineError) -> Batch? {
        try locked { () throws(EngineError) in
            guard let epoch else { throw .misuse("no epoch was started") }
            do { return try epoch.next() } catch { throw EngineError(error) }
        }
    }

    /// The global sample indices read in epoch `number`, in order.
    func order(epoch number: Int) throws(EngineError) -> [Int] {
        try locked { () throws(EngineError) in
            guard (0...Self.maximumEpoch).contains(number) else {
                throw .invalid("epoch", "must be in 0...\(Self.maximumEpoch), got \(number)")
            }
            return try attached().order(epoch: number)
        }
    }

    /// Stops the epoch in progress and waits for its workers.
    func close() {
        lock.withLock {
            epoch?.cancel()
            epoch = nil
            loader = nil
        }
    }

    /// Runs `body` holding the loader's lock.
    private func locked<T>(_ body: () throws(EngineError) -> T) throws(EngineError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func attached() throws(EngineError) -> BatchLoader {
        guard let loader else { throw .misuse("the loader has no ring yet: attach one first") }
        return loader
    }
}

/// What `dp_loader_describe` reports (snake_case keys).
private struct Description: Encodable {
    struct SetSummary: Encodable {
        var directory: String
        var count: Int
        var copies: Int
        var imagesPerCopy: Int
        var split: String
        var spec: String
        /// The shards' digests, which pin the set's bytes (a resumed state checks them).
        var digests: [String]
    }

    var height: Int
    var width: Int
    var channels: Int
    var rescale: Float
    var resize: String
    var elementSize: Int
    var batchSize: Int
    var prefetch: Int
    var samplesPerEpoch: Int
    var classNames: [String]
    var set: SetSummary
}
