import Preparation

// MARK: - Conventions

/// Which meaning the transform options and parameters have.
public enum AugmentConvention: String, Sendable, CaseIterable {
    /// dataprep's: the width shift moves the image horizontally, rotation, shear and zoom turn about
    /// the true centre `((W−1)/2, (H−1)/2)`, shear is a true shear, `wrap` repeats with period n,
    /// the resize is folded into the one resample, and colour operations act on the exact values.
    case corrected
    /// Keras's `ImageDataGenerator` exactly (Keras 3 `keras/src/legacy/preprocessing/image.py`,
    /// the same algorithm as keras-preprocessing's final sources): see ``KerasCompatRenderer``.
    case kerasCompat
}

// MARK: - One explicit transform

/// One sample's transform, with the meaning of the keys of Keras's `apply_transform` dictionary.
///
/// Coordinates: x to the right, y down, output→input (the matrix says where each output pixel is
/// sampled). The output pixel `p` is sampled at `c + R(θ)·(S(tx, ty)·(Sh(shear)·(Z(zx, zy)·(F(p) − c))))`
/// where `c` is the centre, `F` the flips, `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]` (positive θ turns
/// the content counter-clockwise on screen), `S` adds `(tx, ty)` (positive tx samples further
/// right, so the content moves left, as in Keras), `Sh(s) = [[1, −tan s], [0, 1]]` (Keras's quirk:
/// `[[1, −sin s], [0, cos s]]`), and `Z = diag(zx, zy)` (zoom > 1 samples a larger area: the
/// content shrinks). Then the channel shift is added, then the brightness factor multiplies.
public struct TransformParameters: Hashable, Sendable {
    /// Rotation in degrees, counter-clockwise.
    public var theta: Double
    /// Shift along x in output pixels (Keras's `tx`).
    public var tx: Double
    /// Shift along y in output pixels (Keras's `ty`).
    public var ty: Double
    /// Shear angle in degrees.
    public var shear: Double
    /// Zoom along x (sampled area per output pixel; > 1 shrinks the content).
    public var zx: Double
    /// Zoom along y.
    public var zy: Double
    /// Mirror left–right (after the affine, as Keras).
    public var flipHorizontal: Bool
    /// Mirror top–bottom.
    public var flipVertical: Bool
    /// Added to every channel (0–255 scale); nil when Keras would not apply it.
    public var channelShift: Double?
    /// Multiplies every channel; nil when Keras would not apply it.
    public var brightness: Double?

    /// The identity unless arguments say otherwise.
    public init(
        theta: Double = 0, tx: Double = 0, ty: Double = 0, shear: Double = 0, zx: Double = 1, zy: Double = 1,
        flipHorizontal: Bool = false, flipVertical: Bool = false, channelShift: Double? = nil,
        brightness: Double? = nil
    ) {
        self.theta = theta
        self.tx = tx
        self.ty = ty
        self.shear = shear
        self.zx = zx
        self.zy = zy
        self.flipHorizontal = flipHorizontal
        self.flipVertical = flipVertical
        self.channelShift = channelShift
        self.brightness = brightness
    }

    // MARK: Bounds

    /// The largest rotation magnitude accepted, in degrees.
    public static let maximumAngle = 3600.0
    /// The largest shear magnitude accepted, in degrees (90° is singular).
    public static let maximumShear = 89.0
    /// The largest shift magnitude accepted, in output pixels.
    public static let maximumShift = 100_000.0
    /// Zoom factors are accepted in this range (0 is singular).
    public static let zoomBounds = 0.01...100.0
    /// The largest channel-shift magnitude accepted (0–255 scale).
    public static let maximumChannelShift = 255.0
    /// Brightness factors are accepted in this range.
    public static let brightnessBounds = 0.0...100.0

    /// Checks that every value is finite and within the documented bounds, so the map is regular
    /// and bounded.
    /// - Throws: ``AugmentError`` `degenerateTransform` whose parameter is the property at fault
    ///   and whose message gives its range and value.
    public func validate() throws(AugmentError) {
        func check(_ name: String, _ value: Double, _ range: ClosedRange<Double>) throws(AugmentError) {
            guard value.isFinite, range.contains(value) else {
                throw AugmentError(
                    .degenerateTransform, "must be a number in \(range.lowerBound)...\(range.upperBound), got \(value)", parameter: name)
            }
        }
        try check("theta", theta, -Self.maximumAngle...Self.maximumAngle)
        try check("tx", tx, -Self.maximumShift...Self.maximumShift)
        try check("ty", ty, -Self.maximumShift...Self.maximumShift)
        try check("shear", shear, -Self.maximumShear...Self.maximumShear)
        try check("zx", zx, Self.zoomBounds)
        try check("zy", zy, Self.zoomBounds)
        if let channelShift { try check("channelShift", channelShift, -Self.maximumChannelShift...Self.maximumChannelShift) }
        if let brightness { try check("brightness", brightness, Self.brightnessBounds) }
    }

    /// The names of ``recorded`` in order, as written to a shard manifest's `parameterNames`.
    public static let recordedNames = [
        "theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
        "channel_shift", "brightness",
    ]

    /// The parameters as a shard record stores them (float32, in ``recordedNames`` order): flips
    /// as 0 or 1, an absent channel shift as 0 and an absent brightness as 1.
    public var recorded: [Float] {
        [
            Float(theta), Float(tx), Float(ty), Float(shear), Float(zx), Float(zy), flipHorizontal ? 1 : 0,
            flipVertical ? 1 : 0, Float(channelShift ?? 0), Float(brightness ?? 1),
        ]
    }

    /// Whether the geometric part (everything but flips and colour) is the identity.
    var isAffineIdentity: Bool { theta == 0 && tx == 0 && ty == 0 && shear == 0 && zx == 1 && zy == 1 }
}

// MARK: - The colour operations

extension ColorAdjustment {
    /// The channel shift and brightness of `p` (none: shift 0, gain 1).
    init(_ p: TransformParameters) {
        self.init(shift: Float(p.channelShift ?? 0), gain: Float(p.brightness ?? 1))
    }
}
