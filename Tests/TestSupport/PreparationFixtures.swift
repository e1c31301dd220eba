import Codecs
import Foundation
public import Preparation

/// Images to prepare, shared by the preparation and augmentation tests.
public enum PreparationFixtures {
    /// Five good JPEGs of different sizes and one truncated file.
    public static func images(in dir: String) throws -> [PreparationItem] {
        let encoder = try JPEGEncoder()
        var items: [PreparationItem] = []
        for i in 0..<5 {
            let jpeg = try encoder.encode(SyntheticImages.photoLike(width: 60 + 13 * i, height: 40 + 7 * i, seed: UInt64(i)))
            let path = dir + "/img\(i).jpg"
            try Data(jpeg).write(to: URL(fileURLWithPath: path))
            items.append(PreparationItem(path: path, label: i % 2))
            if i == 2 {
                let bad = dir + "/cut.jpg"
                try Data(jpeg.prefix(jpeg.count / 2)).write(to: URL(fileURLWithPath: bad))
                items.append(PreparationItem(path: bad, label: 1))
            }
        }
        return items
    }
}
