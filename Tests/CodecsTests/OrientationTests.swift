import Codecs
import TestSupport
import Testing

@Suite struct OrientationTests {
    /// Six flat 16-pixel blocks, stored as   A B C
    ///                                       D E F
    static let colors: [Character: RGBColor] = [
        "A": RGBColor(red: 240, green: 20, blue: 20), "B": RGBColor(red: 20, green: 240, blue: 20),
        "C": RGBColor(red: 20, green: 20, blue: 240), "D": RGBColor(red: 240, green: 240, blue: 20),
        "E": RGBColor(red: 20, green: 240, blue: 240), "F": RGBColor(red: 240, green: 20, blue: 240),
    ]
    static let block = 16

    /// The upright arrangement each EXIF value must produce, worked out from the EXIF definition
    /// (and PIL's `exif_transpose`), row by row.
    static let upright: [Int: [String]] = [
        1: ["ABC", "DEF"],
        2: ["CBA", "FED"],  // mirror horizontal
        3: ["FED", "CBA"],  // rotate 180°
        4: ["DEF", "ABC"],  // mirror vertical
        5: ["AD", "BE", "CF"],  // transpose
        6: ["DA", "EB", "FC"],  // rotate 90° clockwise
        7: ["FC", "EB", "DA"],  // transverse
        8: ["CF", "BE", "AD"],  // rotate 90° counter-clockwise
    ]

    static func storedJPEG() throws -> [UInt8] {
        let stored = SyntheticImages.blocks(columns: 3, rows: 2, block: block, colors: "ABCDEF".map { colors[$0]! })
        return try JPEGEncoder().encode(stored, options: JPEGEncodeOptions(quality: 95, subsampling: .s444))
    }

    func expectArrangement(_ image: Image, _ rows: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            image.size == PixelSize(width: rows[0].count * Self.block, height: rows.count * Self.block),
            sourceLocation: sourceLocation)
        for (j, row) in rows.enumerated() {
            for (i, name) in row.enumerated() {
                let c = Self.colors[name]!
                let centre = Array(image.pixel(x: i * Self.block + Self.block / 2, y: j * Self.block + Self.block / 2))
                // Flat blocks at quality 95: their centres come back within a few levels.
                #expect(
                    maxDifference(centre, [c.red, c.green, c.blue]) <= 6, "block \(name) at (\(i), \(j))",
                    sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: 1...8)
    func exifOrientationIsApplied(value: Int) throws {
        let file = JPEGFixtures.withEXIF(orientation: value, in: try Self.storedJPEG())
        let decoded = try decode(file)
        #expect(decoded.info.orientation.rawValue == value)
        #expect(decoded.info.width == 48 && decoded.info.height == 32)  // as stored
        expectArrangement(decoded.image, Self.upright[value]!)
    }

    @Test(arguments: [3, 6])
    func bigEndianExifIsRead(value: Int) throws {
        let file = JPEGFixtures.withEXIF(orientation: value, in: try Self.storedJPEG(), bigEndian: true)
        expectArrangement(try decode(file).image, Self.upright[value]!)
    }

    @Test func orientationCanBeLeftAlone() throws {
        let file = JPEGFixtures.withEXIF(orientation: 6, in: try Self.storedJPEG())
        let decoded = try decode(file, DecodeOptions(applyOrientation: false))
        #expect(decoded.info.orientation == .rotate90Clockwise)
        expectArrangement(decoded.image, Self.upright[1]!)
    }

    @Test func invalidOrientationValuesAreIgnored() throws {
        for value in [0, 9, 300] {
            let decoded = try decode(JPEGFixtures.withEXIF(orientation: value, in: try Self.storedJPEG()))
            #expect(decoded.info.orientation == .up)
            expectArrangement(decoded.image, Self.upright[1]!)
        }
    }

    @Test func orientedIsExactOnPixels() {
        // 3×2 gray image with samples 0...5 (row-major); each orientation moves them exactly.
        let image = Image(width: 3, height: 2, format: .gray, pixels: [0, 1, 2, 3, 4, 5])
        let expected: [Orientation: [UInt8]] = [
            .up: [0, 1, 2, 3, 4, 5], .flipHorizontal: [2, 1, 0, 5, 4, 3], .rotate180: [5, 4, 3, 2, 1, 0],
            .flipVertical: [3, 4, 5, 0, 1, 2], .transpose: [0, 3, 1, 4, 2, 5], .rotate90Clockwise: [3, 0, 4, 1, 5, 2],
            .transverse: [5, 2, 4, 1, 3, 0], .rotate90CounterClockwise: [2, 5, 1, 4, 0, 3],
        ]
        for orientation in Orientation.allCases {
            let out = image.oriented(orientation)
            #expect(out.pixels == expected[orientation], "\(orientation)")
            #expect(out.size == (orientation.swapsDimensions ? PixelSize(width: 2, height: 3) : image.size))
        }
    }
}
