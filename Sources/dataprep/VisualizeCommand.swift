import ArgumentParser
import Augment
import Codecs
import Foundation
import Support
import Trainer

/// `dataprep visualize --model CKPT IMAGE --out DIR`: the feature maps of every conv and pool layer
/// for one image, one PNG grid per layer (the Keras tutorial's activation visualisation).
struct Visualize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the feature maps of every conv and pool layer for one image as PNG grids.",
        discussion: """
            The image is made into the model's input as predict does (the model's recorded image \
            spec) and run through the model (dropout \
            off). Each Conv2D and MaxPooling2D layer's output becomes DIR/NN-<layer>.png, NN its \
            position among them from 01: the layer's channels as gray tiles in a grid, one white \
            pixel between and around the tiles, each channel normalised as the Keras tutorial does \
            ((x - mean) / std * 64 + 128, clipped to 0...255 and truncated; a constant channel is \
            128). One line per file is printed: layer, shape (height×width×channels), path.
            """)

    @OptionGroup var model: ModelOption

    @Argument(help: "A JPEG or PNG image.")
    var image: String

    @Option(help: "The folder to write the PNGs to (created when missing).")
    var out: String

    @Option(help: "Channels per row of each grid (default: all in one row, as in the tutorial).")
    var columns: Int?

    func validate() throws {
        guard (columns ?? 1) >= 1 else { throw ValidationError("--columns must be at least 1") }
    }

    func run() throws {
        let network = try model.load()
        let values = try ModelInput(model: network).values(fileAt: image)
        let maps = try values.withUnsafeBufferPointer { try network.featureMaps(image: $0) }
        guard !maps.isEmpty else {
            throw TrainerError(.invalidArgument, "\(model.path): the model has no Conv2D or MaxPooling2D layers to visualize")
        }
        let encoder = PNGEncoder()
        let digits = max(2, String(maps.count).count)
        let rows = maps.enumerated().map { index, map in
            let number = String(format: "%0\(digits)d", index + 1)
            let shape = "\(map.height)×\(map.width)×\(map.channels)"
            return (map: map, shape: shape, path: (out as NSString).appendingPathComponent("\(number)-\(map.layer).png"))
        }
        let nameWidth = rows.map(\.map.layer.count).max()!, shapeWidth = rows.map(\.shape.count).max()!
        try FileIO.createFolder(out)
        for row in rows {
            let grid = FeatureMapGrid.image(of: row.map, columns: columns ?? row.map.channels)
            try FileIO.writeAtomically(try encoder.encode(grid), to: row.path)
            print(
                row.map.layer.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                    + row.shape.padding(toLength: shapeWidth, withPad: " ", startingAt: 0) + "  " + row.path)
        }
    }
}

/// A feature map drawn as the Keras tutorial draws it: each channel a gray tile, tiles side by side.
enum FeatureMapGrid {
    /// The map's channels as tiles in rows of `columns` (channel order), one white (255) pixel
    /// between and around them: (1 + columns′ · (width + 1)) × (1 + rows · (height + 1)) gray pixels,
    /// columns′ = min(columns, channels).
    /// - Precondition: `columns ≥ 1`.
    static func image(of map: FeatureMap, columns: Int) -> Image {
        let tiles = (0..<map.channels).map { tile(map.channel($0), width: map.width, height: map.height) }
        return ContactSheet.compose(tiles, columns: columns, gap: 1, background: 255)
    }

    /// One channel (width × height values, row-major) as 8-bit gray, normalised per channel as the
    /// tutorial does: `uint8(clip((x − mean) / std · 64 + 128, 0, 255))`, with the population standard
    /// deviation and truncation. A constant (or non-finite) channel, where the tutorial divides by
    /// zero, is 128 throughout.
    static func tile(_ values: [Float], width: Int, height: Int) -> Image {
        let count = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / count
        let deviation = (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count).squareRoot()
        guard deviation.isFinite, deviation > 0 else {
            return Image(width: width, height: height, format: .gray, pixels: [UInt8](repeating: 128, count: values.count))
        }
        let pixels = values.map { value in
            UInt8(min(max((Double(value) - mean) / deviation * 64 + 128, 0), 255))
        }
        return Image(width: width, height: height, format: .gray, pixels: pixels)
    }
}
