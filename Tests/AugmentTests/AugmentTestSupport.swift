import Augment
import Codecs

/// A gray image whose pixel (x, y) is `value(x, y)`.
func grayImage(_ width: Int, _ height: Int, _ value: (Int, Int) -> Int) -> Image {
    Image(width: width, height: height, format: .gray) { px in
        for y in 0..<height { for x in 0..<width { px[y * width + x] = UInt8(value(x, y)) } }
    }
}

/// `image` rendered with `parameters` (at its own size unless `size` is given).
func render(
    _ image: Image, _ parameters: TransformParameters, size: PixelSize? = nil,
    _ settings: RenderSettings = RenderSettings()
) -> Image {
    ImageAugmenter(settings: settings, format: image.format)
        .render(SourceImage(image: image), parameters: parameters, size: size ?? image.size)
}

extension Image {
    /// The gray value at (x, y).
    func gray(_ x: Int, _ y: Int) -> Int { Int(pixels[y * width + x]) }

    /// Rows of gray values, for readable failures.
    var grayRows: [[Int]] { (0..<height).map { y in (0..<width).map { gray($0, y) } } }
}

/// `v` rounded half up, as the samplers round.
func roundedHalfUp(_ v: Double) -> Int { Int((v + 0.5).rounded(.down)) }
