import ArgumentParser
import Augment
import Codecs
import Foundation
import Shards
import Trainer

/// `dataprep predict --model CKPT IMAGE...`: class and probability per image.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a trained model.",
        discussion: """
            Each image is decoded and resized as pack and the validation split are (smallest covering \
            DCT scale, antialiased bilinear resize to the model's input size, values × 1/255), then \
            the model prints its most likely class and that class's probability. An image that \
            cannot be decoded is reported on stderr and the others are still classified (exit 1).
            """)

    @Option(help: "A weights file or checkpoint written by train.")
    var model: String

    @Argument(help: "Image files.")
    var images: [String]

    func run() throws {
        let network: Model
        do {
            network = try Model.load(from: model)
        } catch let error as TrainerError {
            Diagnostics.error(error.description)
            throw ExitCode.failure
        }
        let shape = network.inputShape
        let input = ImageInput(shape: shape, layout: network.imageLayout)
        let width = max(4, images.map(\.count).max() ?? 0)
        var failed = 0
        for path in images {
            do {
                let values = try input.values(fileAt: path)
                let probabilities = try values.withUnsafeBufferPointer { try network.predict(images: $0) }
                let (label, probability) = network.outputUnits == 1
                    ? (probabilities[0] > 0.5 ? 1 : 0, probabilities[0] > 0.5 ? probabilities[0] : 1 - probabilities[0])
                    : probabilities.enumerated().max { $0.element < $1.element }.map { ($0.offset, $0.element) }!
                let name = label < network.classNames.count ? network.classNames[label] : "\(label)"
                print(path.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + name + String(format: "  %.4f", probability))
            } catch let error as CodecError {
                Diagnostics.error(error.description)
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode.failure }
    }
}

/// Turns an image file into the Float32 values a model takes, the way training data was made.
struct ImageInput {
    let shape: ImageShape
    let layout: BatchOptionsLayout
    private let decoder = ImageDecoder()
    private let resizer = Resizer()

    typealias BatchOptionsLayout = Shards.BatchOptions.ImageLayout

    init(shape: ImageShape, layout: BatchOptionsLayout) {
        self.shape = shape
        self.layout = layout
    }

    /// The image resized to the model's input and scaled by 1/255, in the model's layout.
    /// - Throws: ``CodecError`` when it cannot be decoded.
    func values(fileAt path: String) throws -> [Float] {
        let size = PixelSize(width: shape.width, height: shape.height)
        let format: PixelFormat = shape.channels == 1 ? .gray : .rgb
        let decoded = try decoder.decode(fileAt: path, options: DecodeOptions(pixelFormat: format, minimumSize: size))
        let image = decoded.image.size == size ? decoded.image : resizer.resize(decoded.image, to: size)
        return Self.floats(image, layout: layout)
    }

    static func floats(_ image: Image, layout: BatchOptionsLayout) -> [Float] {
        let pixels = image.width * image.height, channels = image.channels
        let scale: Float = 1.0 / 255  // as the reader's default rescale
        var values = [Float](repeating: 0, count: pixels * channels)
        for p in 0..<pixels {
            for c in 0..<channels {
                let index = layout == .nhwc ? p * channels + c : c * pixels + p
                values[index] = Float(image.pixels[p * channels + c]) * scale
            }
        }
        return values
    }
}
