public import Codecs
import Dispatch
public import Shards

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
    func prepare(_ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer) throws
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
}

/// Runs a ``RecordPreparer`` over many images on several threads and appends the records to a
/// ``ShardWriter`` in input order (image-major: all copies of image 0, then of image 1, ...).
///
/// Work proceeds in windows of `32 · threads` images: the threads fill a window's buffers (allocated
/// once and reused), then the records are appended in order. The source id of each record is the
/// item's index in `items`.
public enum ShardPreparation {
    /// Prepares `items` into `writer`.
    /// - Parameters:
    ///   - copies: records per image (augmented copies; 1 for plain resizing).
    ///   - threads: worker threads; `preparers` gets called once per thread to make each one's preparer.
    ///   - progress: called on the calling thread after each window with the images done so far.
    /// - Throws: the first ``CodecError`` in input order under `.fail`; ``ShardError`` from the writer.
    public static func run(items: [PreparationItem], copies: Int, writer: ShardWriter, threads: Int, onError: ErrorPolicy,
                           progress: ((Int) -> Void)? = nil,
                           preparers: () -> any RecordPreparer) throws -> PreparationReport {
        let threads = max(1, threads)
        let layout = writer.layout
        let window = 32 * threads
        let workers = (0..<threads).map { _ in preparers() }
        let images = UnsafeMutableRawBufferPointer.allocate(byteCount: window * copies * layout.imageBytes, alignment: 64)
        defer { images.deallocate() }
        images.initializeMemory(as: UInt8.self, repeating: 0)
        var outcomes = [Outcome](repeating: .pending, count: window)
        var report = PreparationReport(written: 0, skipped: [], warnings: [])

        for start in stride(from: 0, to: items.count, by: window) {
            let end = min(start + window, items.count)
            nonisolated(unsafe) let workers = workers, images = images  // each worker touches only its own slots
            try outcomes.withUnsafeMutableBufferPointer { results in
                nonisolated(unsafe) let results = results
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    for slot in stride(from: worker, to: end - start, by: threads) {
                        results[slot] = Self.prepare(items[start + slot], index: start + slot, copies: copies,
                                                     slot: slot, images: images, layout: layout, with: workers[worker])
                    }
                }
                for slot in 0..<(end - start) {
                    switch results[slot] {
                    case .failed(let error):
                        if onError == .fail { throw error }
                        report.skipped.append(error)
                    case .prepared(let parameters, let warning):
                        if let warning { report.warnings.append((items[start + slot].path, warning)) }
                        for copy in 0..<copies {
                            let offset = (slot * copies + copy) * layout.imageBytes
                            try writer.append(image: UnsafeRawBufferPointer(rebasing: images[offset..<offset + layout.imageBytes]),
                                              label: items[start + slot].label,
                                              source: layout.sourceOffset == nil ? nil : UInt32(start + slot),
                                              parameters: parameters[copy])
                        }
                        report.written += 1
                    case .pending:
                        preconditionFailure("slot \(slot) was not prepared")
                    }
                }
            }
            progress?(end)
        }
        return report
    }

    private enum Outcome {
        case pending
        case prepared(parameters: [[Float]], warning: String?)
        case failed(CodecError)
    }

    private static func prepare(_ item: PreparationItem, index: Int, copies: Int, slot: Int,
                                images: UnsafeMutableRawBufferPointer, layout: RecordLayout,
                                with preparer: any RecordPreparer) -> Outcome {
        var parameters: [[Float]] = []
        var warning: String?
        do {
            for copy in 0..<copies {
                let offset = (slot * copies + copy) * layout.imageBytes
                let result = try preparer.prepare(item, index: index, copy: copy,
                                                  into: UnsafeMutableRawBufferPointer(rebasing: images[offset..<offset + layout.imageBytes]))
                parameters.append(result.parameters)
                warning = warning ?? result.warning
            }
            return .prepared(parameters: parameters, warning: warning)
        } catch let error as CodecError {
            return .failed(error.path == nil ? CodecError(error.code, error.message, path: item.path) : error)
        } catch {
            return .failed(CodecError(.corrupt, "\(error)", path: item.path))
        }
    }
}

/// Decodes each image at the smallest DCT scale that covers the target and resizes it to exactly
/// the target size: what `dataprep pack` does for validation data (no augmentation).
public final class ResizingPreparer: RecordPreparer {
    private let decoder = ImageDecoder()
    private let resizer = Resizer()
    private let size: PixelSize
    private let format: PixelFormat
    private let filter: ResizeFilter

    /// - Parameters:
    ///   - size: output width × height.
    ///   - format: `.gray` or `.rgb` (alpha is composited on white).
    public init(size: PixelSize, format: PixelFormat, filter: ResizeFilter = .bilinear) {
        self.size = size
        self.format = format
        self.filter = filter
    }

    public func prepare(_ item: PreparationItem, index: Int, copy: Int, into image: UnsafeMutableRawBufferPointer) throws
        -> (parameters: [Float], warning: String?) {
        let decoded = try decoder.decode(fileAt: item.path, options: DecodeOptions(pixelFormat: format, minimumSize: size))
        if decoded.image.size == size {
            decoded.image.pixels.withUnsafeBytes { image.copyMemory(from: $0) }
        } else {
            resizer.resize(decoded.image, to: size, filter: filter, into: image)
        }
        return ([], decoded.warning)
    }
}
