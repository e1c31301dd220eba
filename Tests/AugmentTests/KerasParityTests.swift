import Augment
import Codecs
import Foundation
import Preparation
import TestSupport
import Testing

/// `--keras-compat` against Keras itself: Keras 3's `keras/src/legacy/preprocessing/image.py` (the
/// ImageDataGenerator code, the same algorithm as tf.keras) run on the same JPEG with PIL's
/// `load_img`. Needs numpy and scipy in the system Python; keras (without its dependencies: the
/// file is loaded with its `keras.src` imports stubbed) and pillow are installed once into a
/// virtualenv cached in `~/.cache/dataprep/` (`XDG_CACHE_HOME`). Skipped, with the reason, when
/// that cannot be done (no python3, or pip cannot reach the package index).
///
/// PyPI's keras-preprocessing 1.1.2 is not the reference: it predates the axis swap (no quirks
/// Q1/Q2, its centre is h/2 + ½) and stretches images to 0…255 before brightness; Keras 2.6+ and
/// Keras 3 are what users run.
@Suite struct KerasParityTests {
    @Test(.enabled(if: KerasReference.python != nil, "\(KerasReference.unavailable ?? "")"))
    func kerasCompatMatchesImageDataGenerator() throws {
        let python = try #require(KerasReference.python)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpeg = dir.appendingPathComponent("photo.jpg").path
        try Data(try JPEGEncoder().encode(SyntheticImages.photoLike(width: 97, height: 61, seed: 5))).write(to: URL(fileURLWithPath: jpeg))

        struct Case { var parameters: TransformParameters; var fill: FillMode; var size: PixelSize }
        let target = PixelSize(width: 40, height: 30), own = PixelSize(width: 97, height: 61)
        let cases = [
            Case(
                parameters: TransformParameters(theta: 23.7, tx: 3.3, ty: -2.1, shear: 12.5, zx: 1.13, zy: 0.91, flipHorizontal: true),
                fill: .nearest, size: target),
            Case(parameters: TransformParameters(theta: -61, zx: 0.7, zy: 0.7), fill: .reflect, size: target),
            Case(parameters: TransformParameters(tx: 4.5, ty: 7.25, flipVertical: true), fill: .wrap, size: target),
            Case(parameters: TransformParameters(theta: 10, channelShift: 25.3, brightness: 1.17), fill: .constant, size: target),
            Case(parameters: TransformParameters(shear: -20, zx: 1.4, zy: 1.2, brightness: 0.83), fill: .wrap, size: own),
            Case(parameters: TransformParameters(theta: 135, tx: -6, channelShift: -40), fill: .reflect, size: own),
        ]
        let spec = cases.map { c -> [String: Any] in
            let p = c.parameters
            var keras: [String: Any] = [
                "theta": p.theta, "tx": p.tx, "ty": p.ty, "shear": p.shear, "zx": p.zx, "zy": p.zy,
                "flip_horizontal": p.flipHorizontal, "flip_vertical": p.flipVertical,
            ]
            keras["channel_shift_intensity"] = p.channelShift
            keras["brightness"] = p.brightness
            return ["params": keras, "fill": c.fill.rawValue, "cval": 40.0, "height": c.size.height, "width": c.size.width]
        }
        try JSONSerialization.data(withJSONObject: ["image": jpeg, "cases": spec]).write(to: dir.appendingPathComponent("cases.json"))
        try KerasReference.script.write(to: dir.appendingPathComponent("reference.py"), atomically: true, encoding: .utf8)
        let run = KerasReference.run(python, [dir.appendingPathComponent("reference.py").path, dir.path])
        try #require(run.status == 0, "the reference script failed: \(run.output)")

        for (n, c) in cases.enumerated() {
            let augmenter = ImageAugmenter(settings: RenderSettings(convention: .kerasCompat, fill: c.fill, cval: 40))
            let ours = augmenter.render(try augmenter.decode(fileAt: jpeg, for: c.size), parameters: c.parameters, size: c.size)
            let data = try Data(contentsOf: dir.appendingPathComponent("out\(n).f32"))
            let theirs = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            try #require(theirs.count == ours.pixels.count, "case \(n): \(theirs.count) values from Keras")
            // Keras's floats rounded half up are our bytes; a value on a .5 or integer boundary may
            // land one level off after float rounding, in a handful of samples at most.
            let differences = zip(ours.pixels, theirs).map { abs(Double($0) - Double($1)) }
            let off = differences.filter { $0 > 0.5 + 1e-3 }.count
            #expect(differences.max()! <= 1 + 1e-3, "case \(n): largest difference \(differences.max()!)")
            #expect(off <= ours.pixels.count / 500, "case \(n): \(off) of \(ours.pixels.count) samples differ by more than ½")
        }
    }
}

// MARK: - The reference environment

/// The cached virtualenv with Keras 3 and pillow, made on first use.
enum KerasReference {
    static let kerasVersion = "3.15.1"

    /// The venv's python, or nil when it cannot be made (see ``unavailable``).
    static var python: String? { setup.python }
    /// Why the reference is unavailable, if it is.
    static var unavailable: String? { setup.reason }

    private static let setup: (python: String?, reason: String?) = {
        let cache = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache"
        let venv = "\(cache)/dataprep/keras-reference-\(kerasVersion)"
        let python = venv + "/bin/python"
        if FileManager.default.fileExists(atPath: venv + "/ready") { return (python, nil) }
        guard run("/usr/bin/env", ["python3", "-c", "import numpy, scipy"]).status == 0 else {
            return (nil, "skipped: python3 with numpy and scipy is needed for the Keras reference")
        }
        // Build beside the final place, then rename, so concurrent test runs never see half a venv.
        let building = "\(venv).building-\(getpid())"
        try? FileManager.default.createDirectory(atPath: cache + "/dataprep", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: building) }
        guard run("/usr/bin/env", ["python3", "-m", "venv", "--system-site-packages", building]).status == 0 else {
            return (nil, "skipped: python3 -m venv failed")
        }
        let pip = run(
            building + "/bin/python",
            [
                "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--timeout", "5",
                "--retries", "0", "--no-deps", "keras==\(kerasVersion)", "pillow",
            ])
        guard pip.status == 0 else {
            return (nil, "skipped: pip could not install keras==\(kerasVersion) and pillow (is the package index reachable?)")
        }
        _ = FileManager.default.createFile(atPath: building + "/ready", contents: nil)
        if rename(building, venv) != 0 && !FileManager.default.fileExists(atPath: venv + "/ready") {
            return (nil, "skipped: cannot move the virtualenv to \(venv)")
        }
        return (python, nil)
    }()

    /// Runs a program; its exit status and combined output.
    static func run(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return (-1, "cannot start \(path)") }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Loads Keras 3's legacy image module with its `keras.src` imports stubbed (numpy, scipy and
    /// PIL are real), then for each case: `load_img(target_size, interpolation="nearest")`,
    /// `img_to_array`, `ImageDataGenerator(fill_mode, cval).apply_transform(x, params)`; writes the
    /// float32 result of case n to `out<n>.f32`.
    static let script = #"""
        import json, os, sys, sysconfig, types
        import numpy as np, scipy

        def stub(name, **attrs):
            module = types.ModuleType(name); module.__dict__.update(attrs); sys.modules[name] = module; return module

        site = sysconfig.get_paths()["purelib"]
        for name in ["keras", "keras.src", "keras.src.trainers", "keras.src.trainers.data_adapters", "keras.src.utils"]:
            stub(name, __path__=[])
        backend = stub("keras.src.backend", image_data_format=lambda: "channels_last", floatx=lambda: "float32",
                       standardize_data_format=lambda f: f or "channels_last")
        sys.modules["keras.src"].backend = backend
        stub("keras.src.api_export", keras_export=lambda *a, **k: (lambda f: f))
        stub("keras.src.trainers.data_adapters.py_dataset_adapter", PyDataset=object)
        stub("keras.src.utils.io_utils")
        stub("keras.src.utils.module_utils", scipy=scipy)

        def load(name, relative):
            module = types.ModuleType(name)
            path = os.path.join(site, "keras", "src", *relative.split("/"))
            exec(compile(open(path).read(), path, "exec"), module.__dict__)
            sys.modules[name] = module
            return module

        image_utils = load("keras.src.utils.image_utils", "utils/image_utils.py")
        sys.modules["keras.src.utils"].image_utils = image_utils
        legacy = load("keras.src.legacy.preprocessing.image", "legacy/preprocessing/image.py")

        folder = sys.argv[1]
        spec = json.load(open(os.path.join(folder, "cases.json")))
        for n, case in enumerate(spec["cases"]):
            img = image_utils.load_img(spec["image"], target_size=(case["height"], case["width"]), interpolation="nearest")
            x = image_utils.img_to_array(img)
            generator = legacy.ImageDataGenerator(fill_mode=case["fill"], cval=case["cval"])
            y = generator.apply_transform(x, case["params"])
            np.asarray(y, dtype=np.float32).tofile(os.path.join(folder, "out%d.f32" % n))
        """#
}
