// The options a loader is opened with, decoded from the JSON object of `dp_loader_open` and checked
// once, here, with errors that name the option as the caller spelled it.
import Augment
import Codecs
import Foundation
import Preparation
import RemoteShards
import Shards
import Support

// MARK: - Options

/// A loader's options: the keys of `dp_loader_open`'s JSON object, which are the Python `Loader`'s
/// argument names (and, under `augment`, `ImageDataGenerator`'s).
struct LoaderConfiguration {
    /// The shard set's folder, or its URL (`https://`, `http://`, `s3://`).
    var path: String
    /// Where a remote set's shards are cached, and how they are fetched.
    var remote = RemoteConfiguration()
    /// The shard-aware order's window (`--shuffle shards:K`); nil: a global shuffle.
    var shuffleWindow: Int?
    var batchSize: Int
    var shuffle = true
    var seed: UInt64 = 0
    /// The model's input size; nil keeps the stored size.
    var size: PixelSize?
    var augmentation = RandomTransform()
    var settings = RenderSettings()
    var layout = BatchOptions.ImageLayout.nchw
    var element = BatchOptions.Element.float32
    var dropLast = false
    var rank = 0
    var worldSize = 1
    /// Worker threads; nil: all cores.
    var threads: Int?
    var prefetch = 4
    var verifyRecords = true
    /// Keras's `rescale`, when given: it must be the set's own (the engine converts with the set's).
    var rescale: Double?

    /// The most worker threads and prefetched batches accepted.
    static let maximumThreads = 256, maximumPrefetch = 64
    /// The most ranks accepted.
    static let maximumWorldSize = 1 << 20

    /// How the trainer's input is made from stored samples (``TrainingInput``).
    var input: TrainingInput { TrainingInput(random: augmentation, settings: settings, size: size) }

    /// The reader options.
    var batchOptions: BatchOptions {
        BatchOptions(
            batchSize: batchSize, layout: layout, element: element, labels: .indices, shuffle: shuffle, seed: seed,
            prefetch: prefetch, threads: threads, dropLast: dropLast, verifyChecksums: verifyRecords, rank: rank,
            worldSize: worldSize, shardWindow: shuffleWindow)
    }
}

/// The options that say how a set given by URL is read: `cache` (a folder, default
/// `$DATAPREP_HOME/cache`), `cache_limit` (bytes), `cacert` (a PEM file).
struct RemoteConfiguration {
    var cache = CacheSettings()
    var options = RemoteOptions()

    /// Opens the set at `path` (a folder or URL) with ``RemoteSet/open(_:cache:options:)``, which
    /// opens a folder as ``ShardSet/init(directory:)`` does.
    /// - Throws: ``EngineError`` with the set's or the transfer's code.
    func open(_ path: String) throws(EngineError) -> ShardSet {
        do {
            return try RemoteSet.open(try SetLocation(path), cache: cache, options: options)
        } catch {
            throw EngineError(error)
        }
    }
}

// MARK: - Decoding and checking

extension LoaderConfiguration {
    /// Decodes and checks `json`.
    /// - Throws: ``EngineError`` `invalidArgument` naming the first option that is missing, of the
    ///   wrong type, unknown or out of range.
    init(json: String) throws(EngineError) {
        var options = Options(try Self.object(json), prefix: "")
        path = try options.string("path")
        remote = try Self.remote(&options)
        batchSize = try options.integer("batch_size", in: 1...BatchOptions.maximumBatchSize)
        shuffle = try options.boolean("shuffle") ?? shuffle
        seed = try options.seed("seed") ?? seed
        if let size = try options.object("size") {
            var fields = Options(size, prefix: "size.")
            let width = try fields.integer("width", in: 1...ImageSpec.maximumSide)
            let height = try fields.integer("height", in: 1...ImageSpec.maximumSide)
            try fields.rejectUnknown()
            self.size = PixelSize(width: width, height: height)
            do { try ImageSpec(width: width, height: height, channels: 3).validate() } catch {
                throw EngineError.invalid("size", error.message)
            }
        }
        let kerasCompat = try options.boolean("keras_compat") ?? false
        settings.convention = kerasCompat ? .kerasCompat : .corrected
        if let augment = try options.object("augment") {
            var fields = Options(augment, prefix: "")
            try decodeAugmentation(&fields)
            try fields.rejectUnknown()
        }
        do { try settings.validate() } catch { throw Self.invalid(error) }
        layout = try options.choice("layout", BatchOptions.ImageLayout.self) ?? layout
        element = try options.choice("dtype", BatchOptions.Element.self) ?? element
        dropLast = try options.boolean("drop_last") ?? dropLast
        worldSize = try options.optionalInteger("world_size", in: 1...Self.maximumWorldSize) ?? worldSize
        rank = try options.optionalInteger("rank", in: 0...Self.maximumWorldSize) ?? rank
        guard rank < worldSize else { throw EngineError.invalid("rank", "must be in 0..<world_size (\(worldSize)), got \(rank)") }
        threads = try options.optionalInteger("threads", in: 1...Self.maximumThreads)
        prefetch = try options.optionalInteger("prefetch", in: 1...Self.maximumPrefetch) ?? prefetch
        verifyRecords = try options.boolean("verify_records") ?? verifyRecords
        shuffleWindow = try options.optionalInteger("shuffle_window", in: 1...BatchOptions.maximumShardWindow)
        try options.rejectUnknown()
    }

    /// Decodes the options of `dp_set_materialize`: `path` and the cache options, nothing else.
    /// - Throws: ``EngineError`` `invalidArgument` naming the option at fault.
    static func materializing(json: String) throws(EngineError) -> (path: String, remote: RemoteConfiguration) {
        var options = try Options(object(json), prefix: "")
        let path = try options.string("path")
        let remote = try remote(&options)
        try options.rejectUnknown()
        return (path, remote)
    }

    /// `cache`, `cache_limit` and `cacert`.
    private static func remote(_ options: inout Options) throws(EngineError) -> RemoteConfiguration {
        var remote = RemoteConfiguration()
        if let folder = try options.optionalString("cache") { remote.cache.folder = folder }
        remote.cache.limit = try options.optionalInteger("cache_limit", in: 1...(1 << 50))
        if let cacert = try options.optionalString("cacert") {
            guard FileIO.exists(cacert) else { throw EngineError.invalid("cacert", "no such file: \(cacert)") }
            remote.options.caBundle = cacert
        }
        return remote
    }

    /// The JSON object `json`.
    private static func object(_ json: String) throws(EngineError) -> [String: JSONValue] {
        do {
            guard case .object(let parsed) = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) else {
                throw EngineError.invalid("", "the options must be a JSON object")
            }
            return parsed
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.invalid("", "the options are not valid JSON: \(error)")
        }
    }

    /// The `augment` object: `ImageDataGenerator`'s arguments, checked once by the library
    /// (``RandomTransform/validate()``, ``RenderSettings/validate()``), whose error names the
    /// parameter at fault; ``kerasNames`` turns it into the argument the caller wrote.
    private mutating func decodeAugmentation(_ fields: inout Options) throws(EngineError) {
        var random = RandomTransform()
        random.rotation = try fields.number("rotation_range") ?? 0
        random.widthShift = try fields.shift("width_shift_range") ?? .none
        random.heightShift = try fields.shift("height_shift_range") ?? .none
        random.shear = try fields.number("shear_range") ?? 0
        let zoom = try fields.pair("zoom_range"), brightness = try fields.pair("brightness_range")
        random.horizontalFlip = try fields.boolean("horizontal_flip") ?? false
        random.verticalFlip = try fields.boolean("vertical_flip") ?? false
        random.channelShift = try fields.number("channel_shift_range") ?? 0
        settings.fill = try fields.choice("fill_mode", FillMode.self) ?? settings.fill
        settings.cval = try fields.number("cval") ?? settings.cval
        rescale = try fields.number("rescale")
        if let order = try fields.optionalInteger("interpolation_order", in: 0...1) {
            settings.interpolation = order == 0 ? .nearest : .bilinear
        }
        do throws(AugmentError) {
            if let zoom { random.zoom = try RandomTransform.range(zoom.0, zoom.1, parameter: "zoom") }
            if let brightness { random.brightness = try RandomTransform.range(brightness.0, brightness.1, parameter: "brightness") }
            try random.validate()
        } catch { throw Self.invalid(error) }
        augmentation = random
    }

    /// ImageDataGenerator's name for each parameter an ``AugmentError`` names.
    static let kerasNames = [
        "rotation": "rotation_range", "widthShift": "width_shift_range", "heightShift": "height_shift_range",
        "shear": "shear_range", "zoom": "zoom_range", "channelShift": "channel_shift_range",
        "brightness": "brightness_range", "cval": "cval", "interpolation": "interpolation_order",
    ]

    /// The library's refusal, naming the argument the caller wrote.
    static func invalid(_ error: AugmentError) -> EngineError {
        .invalid(error.parameter.flatMap { kerasNames[$0] } ?? "augment", error.message)
    }
}

// MARK: - Reading a JSON object

/// Any JSON value, with booleans and numbers kept apart.
enum JSONValue: Decodable {
    case null, boolean(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The number, when this is one.
    var number: Double? {
        if case .number(let number) = self { return number }
        return nil
    }
}

/// The members of one JSON object, read by name with type and range checks; remembers which were
/// read so unknown ones can be refused.
private struct Options {
    let values: [String: JSONValue]
    /// What error names are prefixed with (`size.` for the size's members).
    let prefix: String
    private var read: Set<String> = []

    init(_ values: [String: JSONValue], prefix: String) {
        self.values = values
        self.prefix = prefix
    }

    /// The member `name`, nil when absent or null.
    private mutating func value(_ name: String) -> JSONValue? {
        read.insert(name)
        guard let value = values[name] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func invalid(_ name: String, _ message: String) -> EngineError { .invalid(prefix + name, message) }

    mutating func optionalString(_ name: String) throws(EngineError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value, !text.isEmpty else { throw invalid(name, "must be a non-empty string") }
        return text
    }

    mutating func string(_ name: String) throws(EngineError) -> String {
        guard case .string(let text) = value(name), !text.isEmpty else { throw invalid(name, "must be a non-empty string") }
        return text
    }

    mutating func boolean(_ name: String) throws(EngineError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .boolean(let flag) = value else { throw invalid(name, "must be true or false") }
        return flag
    }

    mutating func number(_ name: String) throws(EngineError) -> Double? {
        guard let value = value(name) else { return nil }
        guard let number = value.number, number.isFinite else { throw invalid(name, "must be a finite number") }
        return number
    }

    /// An integer in `range`, required.
    mutating func integer(_ name: String, in range: ClosedRange<Int>) throws(EngineError) -> Int {
        guard let number = try optionalInteger(name, in: range) else { throw invalid(name, "is required") }
        return number
    }

    mutating func optionalInteger(_ name: String, in range: ClosedRange<Int>) throws(EngineError) -> Int? {
        guard let number = try number(name) else { return nil }
        guard number == number.rounded(), number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw invalid(name, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \(number)")
        }
        return Int(number)
    }

    /// A seed: an integer 0 ..< 2⁶⁴, given as a decimal string (JSON numbers lose digits past 2⁵³).
    mutating func seed(_ name: String) throws(EngineError) -> UInt64? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value, let seed = UInt64(text) else {
            throw invalid(name, "must be an integer in 0...\(UInt64.max), as a decimal string")
        }
        return seed
    }

    mutating func object(_ name: String) throws(EngineError) -> [String: JSONValue]? {
        guard let value = value(name) else { return nil }
        guard case .object(let object) = value else { throw invalid(name, "must be an object") }
        return object
    }

    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, _ type: Choice.Type) throws(EngineError) -> Choice?
    where Choice.RawValue == String {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value, let choice = Choice(rawValue: text) else {
            throw invalid(name, "must be one of \(Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        return choice
    }

    /// Finite numbers, every element a number.
    private static func numbers(_ value: JSONValue) -> [Double]? {
        guard case .array(let array) = value else { return nil }
        let numbers = array.compactMap(\.number)
        return numbers.count == array.count && numbers.allSatisfy(\.isFinite) ? numbers : nil
    }

    /// Two finite numbers `[low, high]`.
    mutating func pair(_ name: String) throws(EngineError) -> (Double, Double)? {
        guard let value = value(name) else { return nil }
        guard let numbers = Self.numbers(value), numbers.count == 2 else { throw invalid(name, "must be two finite numbers [low, high]") }
        return (numbers[0], numbers[1])
    }

    /// A shift range in one of Keras's three forms, typed: `{"uniform": w}` (a float),
    /// `{"pixels": n}` (an int) or `{"choices": [...]}` (a list).
    mutating func shift(_ name: String) throws(EngineError) -> ShiftRange? {
        guard let value = value(name) else { return nil }
        let forms = "must be {\"uniform\": FLOAT}, {\"pixels\": INT} or {\"choices\": [NUMBERS]}"
        guard case .object(let object) = value, object.count == 1, let (form, argument) = object.first else {
            throw invalid(name, forms)
        }
        var inner = Options(object, prefix: prefix + name + ".")
        switch form {
        case "uniform":
            guard let width = try inner.number("uniform") else { throw invalid(name, forms) }
            return .uniform(width)
        case "pixels":
            guard let pixels = try inner.optionalInteger("pixels", in: 0...Int(TransformParameters.maximumShift)) else {
                throw invalid(name, forms)
            }
            return .wholePixels(pixels)
        case "choices":
            guard let numbers = Self.numbers(argument), !numbers.isEmpty else {
                throw invalid(name, "a list of shifts must hold finite numbers")
            }
            return .choices(numbers)
        default:
            throw invalid(name, forms)
        }
    }

    /// Refuses members that were never read.
    func rejectUnknown() throws(EngineError) {
        if let unknown = values.keys.sorted().first(where: { !read.contains($0) }) {
            throw invalid(unknown, "is not an option")
        }
    }
}
