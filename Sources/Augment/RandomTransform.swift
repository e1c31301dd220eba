public import Codecs

// MARK: - Ranges

/// A width or height shift range, in the three forms Keras's `width_shift_range` accepts.
public enum ShiftRange: Hashable, Sendable {
    /// A float `w`: `U(−w, w)`, a fraction of the size when `w < 1`, pixels otherwise. `0` is off.
    case uniform(Double)
    /// A list: one of the values (uniformly) times a random sign; fractions when the largest is < 1.
    case choices([Double])
    /// An integer `N`: one of `0 … N−1` pixels times a random sign (Keras's int form: `2` gives −1, 0
    /// or +1). `0` is off.
    case wholePixels(Int)

    /// No shift.
    public static let none = ShiftRange.uniform(0)

    /// Whether the range ever shifts.
    public var isOff: Bool {
        switch self {
        case .uniform(let w): w == 0
        case .choices(let values): values.isEmpty || values.allSatisfy { $0 == 0 }
        case .wholePixels(let n): n == 0
        }
    }

    /// The shift in pixels along an axis of `size` pixels, from a value draw `u` and a sign draw `s`
    /// (both in [0, 1)).
    func shift(size: Int, value u: Double, sign s: Double) -> Double {
        let sign: Double = s < 0.5 ? -1 : 1
        switch self {
        case .uniform(let w):
            return (-w + 2 * w * u) * (w < 1 ? Double(size) : 1)
        case .choices(let values):
            let value = values[min(values.count - 1, Int(u * Double(values.count)))] * sign
            return value * ((values.max() ?? 0) < 1 ? Double(size) : 1)
        case .wholePixels(let n):
            return Double(min(n - 1, Int(u * Double(n)))) * sign
        }
    }

    /// Checks the range: a fraction or pixel count in 0…``TransformParameters/maximumShift``, or a
    /// non-empty list of such values.
    /// - Throws: ``AugmentError`` `invalidOption` naming `name`.
    public func validate(_ name: String) throws(AugmentError) {
        let limit = TransformParameters.maximumShift
        let ok =
            switch self {
            case .uniform(let w): w >= 0 && w <= limit
            case .choices(let values): !values.isEmpty && values.allSatisfy { $0.isFinite && abs($0) <= limit }
            case .wholePixels(let n): n >= 0 && Double(n) <= limit
            }
        guard ok else {
            throw AugmentError(.invalidOption, "\(name) must be 0...\(Int(limit)) (a fraction < 1, pixels ≥ 1) or a list of such values")
        }
    }
}

// MARK: - Random transform

/// The random augmentation, with the arguments of Keras's `ImageDataGenerator` (degrees for angles,
/// fractions or pixels for shifts). ``parameters(outputSize:random:convention:)`` draws one sample's
/// ``TransformParameters`` exactly as `get_random_transform` does, from counter-based draws.
public struct RandomTransform: Hashable, Sendable {
    /// `rotation_range`: θ = U(−r, r) degrees.
    public var rotation: Double
    /// `width_shift_range`.
    public var widthShift: ShiftRange
    /// `height_shift_range`.
    public var heightShift: ShiftRange
    /// `shear_range`: U(−s, s) degrees.
    public var shear: Double
    /// `zoom_range` as `[low, high]` (a scalar z is `[1−z, 1+z]`): zx and zy are drawn independently.
    public var zoom: ClosedRange<Double>
    /// Draw one zoom factor for both axes (zy = zx), so the aspect ratio is kept.
    public var keepAspect: Bool
    /// `horizontal_flip`: mirror with probability ½.
    public var horizontalFlip: Bool
    /// `vertical_flip`.
    public var verticalFlip: Bool
    /// `channel_shift_range`: one intensity U(−c, c) added to every channel.
    public var channelShift: Double
    /// `brightness_range`: a factor U(low, high); nil is off.
    public var brightness: ClosedRange<Double>?

    /// No augmentation unless arguments say otherwise.
    public init(
        rotation: Double = 0, widthShift: ShiftRange = .none, heightShift: ShiftRange = .none, shear: Double = 0,
        zoom: ClosedRange<Double> = 1...1, keepAspect: Bool = false, horizontalFlip: Bool = false,
        verticalFlip: Bool = false, channelShift: Double = 0, brightness: ClosedRange<Double>? = nil
    ) {
        self.rotation = rotation
        self.widthShift = widthShift
        self.heightShift = heightShift
        self.shear = shear
        self.zoom = zoom
        self.keepAspect = keepAspect
        self.horizontalFlip = horizontalFlip
        self.verticalFlip = verticalFlip
        self.channelShift = channelShift
        self.brightness = brightness
    }

    /// Keras's scalar zoom: `[1 − z, 1 + z]`.
    public static func zoomRange(_ z: Double) -> ClosedRange<Double> { (1 - z)...(1 + z) }

    /// Checks every range.
    /// - Throws: ``AugmentError`` `invalidOption` naming the option.
    public func validate() throws(AugmentError) {
        guard (0...360).contains(rotation) else { throw AugmentError(.invalidOption, "rotation must be 0...360 degrees, got \(rotation)") }
        guard (0...TransformParameters.maximumShear).contains(shear) else {
            throw AugmentError(.invalidOption, "shear must be 0...\(TransformParameters.maximumShear) degrees, got \(shear)")
        }
        guard TransformParameters.zoomBounds.contains(zoom.lowerBound), TransformParameters.zoomBounds.contains(zoom.upperBound) else {
            throw AugmentError(
                .invalidOption, "zoom bounds must be in \(TransformParameters.zoomBounds) (a scalar zoom Z in 0...0.99), got \(zoom)")
        }
        guard (0...TransformParameters.maximumChannelShift).contains(channelShift) else {
            throw AugmentError(.invalidOption, "channel shift must be 0...255, got \(channelShift)")
        }
        if let brightness,
            !(TransformParameters.brightnessBounds.contains(brightness.lowerBound)
                && TransformParameters.brightnessBounds.contains(brightness.upperBound))
        {
            throw AugmentError(.invalidOption, "brightness factors must be in \(TransformParameters.brightnessBounds), got \(brightness)")
        }
        try widthShift.validate("width shift")
        try heightShift.validate("height shift")
    }

    /// One sample's parameters for an output of `outputSize`.
    ///
    /// θ = U(−rotation, rotation) (slot `rotation`); the x shift comes from `widthShift` scaled by the
    /// width and the y shift from `heightShift` scaled by the height — except under
    /// ``AugmentConvention/kerasCompat``, where, as Keras does (its quirk Q1), `tx` comes from the
    /// height range scaled by the height and `ty` from the width range scaled by the width; shear =
    /// U(−shear, shear); zx, zy = U(zoom) each unless the zoom is 1…1 (zy = zx with `keepAspect`);
    /// each flip happens when its draw is < ½ and the flag is on; channel shift and brightness as
    /// documented on their properties. A transform that is off is not drawn (identity value).
    public func parameters(outputSize: PixelSize, random: SampleRandom, convention: AugmentConvention) -> TransformParameters {
        var p = TransformParameters()
        if rotation != 0 { p.theta = random.uniform(.rotation, from: -rotation, to: rotation) }
        let heightShift =
            heightShift.isOff
            ? 0
            : self.heightShift.shift(
                size: outputSize.height, value: random.uniform(.heightShift), sign: random.uniform(.heightShiftSign))
        let widthShift =
            widthShift.isOff
            ? 0
            : self.widthShift.shift(
                size: outputSize.width, value: random.uniform(.widthShift), sign: random.uniform(.widthShiftSign))
        switch convention {
        case .corrected: (p.tx, p.ty) = (widthShift, heightShift)
        case .kerasCompat: (p.tx, p.ty) = (heightShift, widthShift)
        }
        if shear != 0 { p.shear = random.uniform(.shear, from: -shear, to: shear) }
        if zoom != 1...1 {
            p.zx = random.uniform(.zoomX, from: zoom.lowerBound, to: zoom.upperBound)
            p.zy = keepAspect ? p.zx : random.uniform(.zoomY, from: zoom.lowerBound, to: zoom.upperBound)
        }
        p.flipHorizontal = horizontalFlip && random.uniform(.flipHorizontal) < 0.5
        p.flipVertical = verticalFlip && random.uniform(.flipVertical) < 0.5
        if channelShift != 0 { p.channelShift = random.uniform(.channelShift, from: -channelShift, to: channelShift) }
        if let brightness { p.brightness = random.uniform(.brightness, from: brightness.lowerBound, to: brightness.upperBound) }
        return p
    }
}
