import Foundation

@testable import Trainer

/// A Float64 reference of a model's forward pass and loss, written from Keras's definitions alone
/// (NHWC images, HWIO convolution kernels, (in, out) dense kernels, flatten in (h, w, c) order,
/// 'same' padding with the extra row/column at the bottom/right), independent of oneDNN. Slow and
/// simple: for tiny shapes only.
struct ReferenceModel {
    let layers: [ResolvedLayer]
    /// Parameter values by Keras name, in Keras's layout.
    var weights: [String: [Double]]
    let loss: Loss
    let classes: Int
    /// Dropout masks, as the model draws them: (seed, step). Nil for inference (no dropout).
    let dropout: (seed: UInt64, step: UInt64)?

    init(_ model: Model, training: Bool) {
        layers = model.layers
        weights = Dictionary(uniqueKeysWithValues: model.weights.map { ($0.name, $0.values.map(Double.init)) })
        loss = model.loss
        classes = model.classes
        dropout = training ? (model.seed, UInt64(model.iterations)) : nil
    }

    /// The last layer's logits for each image of `images` (NHWC, batch-major).
    func logits(_ images: [Double], batch: Int) -> [[Double]] {
        let size = images.count / batch
        var outputs = (0..<batch).map { Array(images[$0 * size..<($0 + 1) * size]) }
        for (index, layer) in layers.enumerated() {
            let isLast = index == layers.count - 1
            switch layer.operation {
            case let .convolution(filters, window, activation):
                outputs = outputs.map { activate(convolve($0, layer, filters: filters, window: window), activation, groups: filters) }
            case let .maxPooling(window):
                outputs = outputs.map { pool($0, layer, window: window) }
            case let .dense(units, activation):
                outputs = outputs.map { dense($0, layer, units: units, activation: isLast ? .linear : activation) }
            case .flatten:
                break
            case let .dropout(rate):
                guard let dropout else { break }
                // Masks are drawn per stored value; in a dense context the store is batch × features.
                let key = mix(mix(dropout.seed, UInt64(index)), dropout.step)
                let threshold = UInt64((Double(rate) * 65536).rounded()), scale = Double(1 / (1 - rate))
                outputs = outputs.enumerated().map { sample, values in
                    values.enumerated().map { feature, value in
                        let i = sample * values.count + feature
                        let bits = mix(key, UInt64(i >> 2))
                        return (bits >> UInt64((i & 3) * 16)) & 0xFFFF >= threshold ? value * scale : 0
                    }
                }
            }
        }
        return outputs
    }

    /// The mean loss over the batch, computed as Keras defines it (from logits, stably).
    func meanLoss(_ images: [Double], labels: [Int32]) -> Double {
        let all = logits(images, batch: labels.count)
        var total = 0.0
        for (row, label) in zip(all, labels) {
            switch loss {
            case .binaryCrossentropy:
                let z = row[0], t = Double(label)
                total += max(z, 0) - z * t + log1p(exp(-abs(z)))
            case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
                let largest = row.max()!
                let logSum = largest + log(row.map { exp($0 - largest) }.reduce(0, +))
                total += logSum - row[Int(label)]
            }
        }
        return total / Double(labels.count)
    }

    // MARK: Layers

    private func convolve(_ input: [Double], _ layer: ResolvedLayer, filters: Int, window: Window) -> [Double] {
        let (height, width, channels) = (layer.input.dims[0], layer.input.dims[1], layer.input.dims[2])
        let (outHeight, outWidth) = (layer.output.dims[0], layer.output.dims[1])
        let kernel = weights["\(layer.name)/kernel"]!, bias = weights["\(layer.name)/bias"]!
        let size = window.size[0]
        var output = [Double](repeating: 0, count: outHeight * outWidth * filters)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for o in 0..<filters {
                    var sum = bias[o]
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let y = oy * window.strides[0] + ky - window.paddingLow[0]
                            let x = ox * window.strides[1] + kx - window.paddingLow[1]
                            guard y >= 0, y < height, x >= 0, x < width else { continue }
                            for i in 0..<channels {
                                sum += input[(y * width + x) * channels + i] * kernel[((ky * size + kx) * channels + i) * filters + o]
                            }
                        }
                    }
                    output[(oy * outWidth + ox) * filters + o] = sum
                }
            }
        }
        return output
    }

    private func pool(_ input: [Double], _ layer: ResolvedLayer, window: Window) -> [Double] {
        let (height, width, channels) = (layer.input.dims[0], layer.input.dims[1], layer.input.dims[2])
        let (outHeight, outWidth) = (layer.output.dims[0], layer.output.dims[1])
        var output = [Double](repeating: -.infinity, count: outHeight * outWidth * channels)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for ky in 0..<window.size[0] {
                    for kx in 0..<window.size[1] {
                        let y = oy * window.strides[0] + ky - window.paddingLow[0]
                        let x = ox * window.strides[1] + kx - window.paddingLow[1]
                        guard y >= 0, y < height, x >= 0, x < width else { continue }
                        for c in 0..<channels {
                            let o = (oy * outWidth + ox) * channels + c
                            output[o] = max(output[o], input[(y * width + x) * channels + c])
                        }
                    }
                }
            }
        }
        return output
    }

    private func dense(_ input: [Double], _ layer: ResolvedLayer, units: Int, activation: Activation) -> [Double] {
        let kernel = weights["\(layer.name)/kernel"]!, bias = weights["\(layer.name)/bias"]!
        let output = (0..<units).map { o in
            bias[o] + input.indices.reduce(0.0) { $0 + input[$1] * kernel[$1 * units + o] }
        }
        return activate(output, activation, groups: units)
    }

    /// `activation` over `values`; softmax runs over each consecutive group of `groups` values (the
    /// channels of a pixel, or a dense layer's units).
    private func activate(_ values: [Double], _ activation: Activation, groups: Int) -> [Double] {
        switch activation {
        case .linear: return values
        case .relu: return values.map { max($0, 0) }
        case .sigmoid: return values.map { 1 / (1 + exp(-$0)) }
        case .softmax:
            return stride(from: 0, to: values.count, by: groups).flatMap { start -> [Double] in
                let group = values[start..<start + groups], largest = group.max()!
                let exps = group.map { exp($0 - largest) }, sum = exps.reduce(0, +)
                return exps.map { $0 / sum }
            }
        }
    }
}
