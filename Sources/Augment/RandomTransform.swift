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
    /// - Throws: ``AugmentError`` `invalidOption`, without a parameter (``RandomTransform/validate()``
    ///   names it).
    public func validate() throws(AugmentError) {
        let limit = TransformParameters.maximumShift
        let ok =
            switch self {
            case .uniform(let w): w >= 0 && w <= limit
            case .choices(let values): !values.isEmpty && values.allSatisfy { $0.isFinite && abs($0) <= limit }
            case .wholePixels(let n): n >= 0 && Double(n) <= limit
            }
        guard ok else {
            throw AugmentError(.invalidOption, "must be 0...\(Int(limit)) (a fraction < 1, pixels ≥ 1) or a list of such values")
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

    // MARK: Checks

    /// Keras's scalar zoom `z`: `[1 − z, 1 + z]`.
    /// - Throws: ``AugmentError`` `invalidOption` (parameter `zoom`) unless `z` is in 0…0.99.
    public static func zoomRange(_ z: Double) throws(AugmentError) -> ClosedRange<Double> {
        guard z.isFinite, (0...0.99).contains(z) else {
            throw AugmentError(.invalidOption, "must be 0...0.99 as a single value Z (it means [1-Z, 1+Z]), got \(z)", parameter: "zoom")
        }
        return (1 - z)...(1 + z)
    }

    /// `low...high` for `parameter`, refused before it is built when it cannot be a range (a
    /// `ClosedRange` cannot hold NaN or `low > high`); its bounds are ``validate()``'s to check.
    /// - Throws: ``AugmentError`` `invalidOption` naming `parameter`.
    public static func range(_ low: Double, _ high: Double, parameter: String) throws(AugmentError) -> ClosedRange<Double> {
        guard low <= high else {
            throw AugmentError(.invalidOption, "must be LOW,HIGH with LOW ≤ HIGH, got \(low),\(high)", parameter: parameter)
        }
        return low...high
    }

    /// Checks every range against its bounds: the one check of the augmentation's values, which a
    /// caller reports in its own terms (the error's parameter is the property at fault).
    /// - Throws: ``AugmentError`` `invalidOption` whose parameter names the property.
    public func validate() throws(AugmentError) {
        func check(_ ok: Bool, _ parameter: String, _ message: @autoclosure () -> String) throws(AugmentError) {
            guard ok else { throw AugmentError(.invalidOption, message(), parameter: parameter) }
        }
        let bounds = TransformParameters.self
        try check((0...360).contains(rotation), "rotation", "must be 0...360 degrees, got \(rotation)")
        try check(
            (0...bounds.maximumShear).contains(shear), "shear",
            "must be 0...\(bounds.maximumShear) degrees (Keras's shear_range is in degrees), got \(shear)")
        try check(
            bounds.zoomBounds.contains(zoom.lowerBound) && bounds.zoomBounds.contains(zoom.upperBound), "zoom",
            "must lie in \(bounds.zoomBounds) (a single value Z in 0...0.99), got \(zoom)")
        try check((0...bounds.maximumChannelShift).contains(channelShift), "channelShift", "must be 0...255, got \(channelShift)")
        if let brightness {
            try check(
                bounds.brightnessBounds.contains(brightness.lowerBound) && bounds.brightnessBounds.contains(brightness.upperBound),
                "brightness", "must lie in \(bounds.brightnessBounds), got \(brightness)")
        }
        for (parameter, range) in [("widthShift", widthShift), ("heightShift", heightShift)] {
            do throws(AugmentError) { try range.validate() } catch {
                throw AugmentError(error.code, error.message, parameter: parameter)
            }
        }
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
