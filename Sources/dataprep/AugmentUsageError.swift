import ArgumentParser
import Augment

extension AugmentError {
    /// The flag that sets each parameter an ``AugmentError`` can name (the Swift property of
    /// `RandomTransform`, `RenderSettings` or `TransformParameters`).
    static let flags = [
        "rotation": "--rotate", "widthShift": "--width-shift", "heightShift": "--height-shift", "shear": "--shear",
        "zoom": "--zoom", "channelShift": "--channel-shift", "brightness": "--brightness", "cval": "--cval",
        "interpolation": "--interpolation", "theta": "--theta", "tx": "--tx", "ty": "--ty", "zx": "--zx", "zy": "--zy",
    ]

    /// The usage error that reports the library's refusal on the command line: `FLAG message`,
    /// with the flag that sets the parameter at fault (`flags` first, then ``flags``).
    func usageError(_ flags: [String: String] = [:]) -> ValidationError {
        guard let parameter, let flag = flags[parameter] ?? Self.flags[parameter] else { return ValidationError(message) }
        return ValidationError("\(flag) \(message)")
    }
}
