public import Codecs

/// Lays images out in a grid on one image (a contact sheet): what `dataprep preview` writes.
public enum ContactSheet {
    /// `images` (all of one format) in rows of `columns`, each cell as large as the largest image
    /// (smaller ones top-left aligned), separated and framed by `gap` pixels of `background`.
    /// - Precondition: `images` is not empty, `columns ≥ 1`, `gap ≥ 0`.
    public static func compose(_ images: [Image], columns: Int, gap: Int = 4, background: UInt8 = 255) -> Image {
        precondition(!images.isEmpty && columns >= 1 && gap >= 0)
        let format = images[0].format, channels = format.channels
        let cellWidth = images.map(\.width).max()!, cellHeight = images.map(\.height).max()!
        let columns = min(columns, images.count), rows = (images.count + columns - 1) / columns
        let width = gap + columns * (cellWidth + gap), height = gap + rows * (cellHeight + gap)
        var sheet = Image(
            width: width, height: height, format: format,
            pixels: [UInt8](repeating: background, count: width * height * channels))
        sheet.pixels.withUnsafeMutableBufferPointer { out in
            for (n, image) in images.enumerated() {
                precondition(image.format == format, "every image on a sheet must have the same format")
                let left = gap + (n % columns) * (cellWidth + gap), top = gap + (n / columns) * (cellHeight + gap)
                image.pixels.withUnsafeBufferPointer { pixels in
                    for y in 0..<image.height {
                        let destination = ((top + y) * width + left) * channels
                        let row = UnsafeBufferPointer(rebasing: pixels[(y * image.rowBytes)..<((y + 1) * image.rowBytes)])
                        _ = UnsafeMutableBufferPointer(rebasing: out[destination..<(destination + image.rowBytes)])
                            .update(fromContentsOf: row)
                    }
                }
            }
        }
        return sheet
    }
}
