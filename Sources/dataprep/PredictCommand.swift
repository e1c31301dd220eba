import ArgumentParser
import Codecs
import Datasets
import Foundation
import Preparation
import Support
import Trainer

/// `dataprep predict --model CKPT IMAGE|FOLDER...`: the most likely classes of each image.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a trained model.",
        discussion: """
            Each image is made into the model's input exactly as its training shards were: the image \
            spec recorded in the model file (size, channels, resize, rescale) decides, so a model \
            trained on --keras-compat or --interpolation nearest shards gets its input resized the \
            same way; a model trained with --size on shards of another size gets the file made to the \
            stored spec, then resampled to its size as its validation data was. A folder is searched \
            recursively for files with image names, as scan finds them (hidden files and folders are \
            skipped), in path order. Each image prints one line: the path, then its --top most likely \
            classes with their probabilities; a binary (sigmoid) model also prints its raw output, the \
            probability of the second class. --json prints one JSON object per image instead, for \
            scripts. An image that cannot be decoded is reported (on stderr, or as an "error" object \
            with --json) and the others are still classified (exit 1).
            """)

    @OptionGroup var model: ModelOption

    @Argument(help: "Image files, or folders to search for images.")
    var images: [String]

    @Option(help: "How many of the most likely classes to print (1-\(Self.maximumTop)).")
    var top = 1

    @Flag(help: "Print one JSON object per image: file, predictions (class, label, probability), sigmoid.")
    var json = false

    /// The most classes one line lists.
    static let maximumTop = 1000

    func validate() throws {
        guard (1...Self.maximumTop).contains(top) else { throw ValidationError("--top must be 1...\(Self.maximumTop), got \(top)") }
    }

    func run() throws {
        let network = try model.load()
        let input = ModelInput(model: network)
        let files = try images.flatMap { try Self.imageFiles(at: $0) }
        let width = max(4, files.map(\.count).max() ?? 0)
        var failed = 0
        for path in files {
            do {
                let values = try input.values(fileAt: path)
                let outputs = try values.withUnsafeBufferPointer { try network.predict(images: $0) }
                let prediction = Prediction(outputs, classNames: network.classNames, top: top)
                print(json ? prediction.json(file: path) : prediction.line(file: path, width: width))
            } catch let error as CodecError {
                if json {
                    print(Prediction.jsonLine(["file": path, "error": ["code": error.code.rawValue, "message": error.message]]))
                } else {
                    Diagnostics.error(Diagnostics.escaped(Failure.line(for: error)!))
                }
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode.failure }
    }

    /// `path` itself when it is not a folder; otherwise the files with image names under it,
    /// recursively, hidden ones left out, sorted by path.
    static func imageFiles(at path: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            throw SupportError(.fileSystem, "cannot list the folder", path: path)
        }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if DatasetDirectory.isHidden(name) {
                walker.skipDescendants()
                continue
            }
            if DatasetDirectory.isImageName(name) { found.append((path as NSString).appendingPathComponent(relative)) }
        }
        return found.sorted()
    }
}

/// One image's prediction: its classes by probability.
struct Prediction {
    /// (label, class name, probability), most likely first.
    let ranked: [(label: Int, name: String, probability: Float)]
    /// The raw output of a one-unit sigmoid model (the probability of label 1), else nil.
    let sigmoid: Float?

    /// - Parameters:
    ///   - outputs: the model's outputs for one image: one sigmoid value, or a softmax per class.
    init(_ outputs: [Float], classNames: [String], top: Int) {
        let probabilities = outputs.count == 1 ? [1 - outputs[0], outputs[0]] : outputs
        sigmoid = outputs.count == 1 ? outputs[0] : nil
        ranked = probabilities.enumerated()
            .sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(top)
            .map {
                (label: $0.offset, name: $0.offset < classNames.count ? classNames[$0.offset] : "\($0.offset)", probability: $0.element)
            }
    }

    /// `PATH  CLASS 0.9948  CLASS 0.0031  sigmoid 0.0052`.
    func line(file: String, width: Int) -> String {
        var text = Diagnostics.escaped(file).padding(toLength: width, withPad: " ", startingAt: 0)
        for entry in ranked { text += "  " + entry.name + String(format: "  %.4f", entry.probability) }
        if let sigmoid { text += String(format: "  sigmoid %.4f", sigmoid) }
        return text
    }

    /// `{"file": ..., "predictions": [{"class": ..., "label": ..., "probability": ...}], "sigmoid": ...}`.
    func json(file: String) -> String {
        var object: [String: Any] = [
            "file": file,
            "predictions": ranked.map { ["class": $0.name, "label": $0.label, "probability": Double($0.probability)] as [String: Any] },
        ]
        if let sigmoid { object["sigmoid"] = Double(sigmoid) }
        return Self.jsonLine(object)
    }

    /// `object` as one line of JSON with sorted keys.
    static func jsonLine(_ object: [String: Any]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
