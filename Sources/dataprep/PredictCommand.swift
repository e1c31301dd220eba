import ArgumentParser
import Codecs
import Foundation
import Trainer

/// `dataprep predict --model CKPT IMAGE...`: class and probability per image.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a trained model.",
        discussion: """
            Each image is made into the model's input exactly as its training shards were: the image \
            spec recorded in the model file (size, channels, resize, rescale) decides, so a model \
            trained on --keras-compat or --interpolation nearest shards gets its input resized the \
            same way. A model trained with --size on shards of another size gets the file made to \
            the stored spec, then resampled to its size as its validation data was. The model prints its most likely class and that class's probability. An image \
            that cannot be decoded is reported on stderr and the others are still classified (exit 1).
            """)

    @Option(help: "A weights file or checkpoint written by train.")
    var model: String

    @Argument(help: "Image files.")
    var images: [String]

    func run() throws {
        let network = try Model.load(from: model)
        let input = ModelInput(model: network)
        let width = max(4, images.map(\.count).max() ?? 0)
        var failed = 0
        for path in images {
            do {
                let values = try input.values(fileAt: path)
                let probabilities = try values.withUnsafeBufferPointer { try network.predict(images: $0) }
                let (label, probability) =
                    network.outputUnits == 1
                    ? (probabilities[0] > 0.5 ? 1 : 0, probabilities[0] > 0.5 ? probabilities[0] : 1 - probabilities[0])
                    : probabilities.enumerated().max { $0.element < $1.element }.map { ($0.offset, $0.element) }!
                let name = label < network.classNames.count ? network.classNames[label] : "\(label)"
                print(path.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + name + String(format: "  %.4f", probability))
            } catch let error as CodecError {
                Diagnostics.error(Diagnostics.escaped(Failure.line(for: error)!))
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode.failure }
    }
}
