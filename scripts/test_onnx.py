"""make test-onnx: train tutorial, fashion and mlp on generated PNGs, export each to ONNX, and check
that onnxruntime's outputs on 20 images equal `dataprep predict --json` within 1e-4.

The images are written at the model's size, so predict's loader copies their pixels unresized; the
ONNX input is then those pixels × the rescale recorded in the model's metadata (NHWC, float32),
which is how the graph documents its input.
Usage: test_onnx.py PATH-TO-DATAPREP WORK-FOLDER
"""
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4
IMAGES = 20

# name, preset, width, height, channels, classes, images per class
CASES = [
    ("tutorial", "tutorial", 64, 64, 3, 2, 12),  # sigmoid output
    ("fashion", "fashion", 28, 28, 1, 3, 10),  # softmax, gray
    ("mlp", "mlp", 20, 12, 3, 4, 6),  # softmax, not square
]


def write_png(path, pixels):
    """An 8-bit gray (h, w) or RGB (h, w, 3) PNG, no filtering."""
    height, width = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_images(folder, width, height, channels, classes, per_class, seed):
    """Class-dependent stripes plus noise; returns [(path, pixels)] in path order."""
    rng = np.random.default_rng(seed)
    images = []
    for c in range(classes):
        os.makedirs(os.path.join(folder, f"class{c}"), exist_ok=True)
        for i in range(per_class):
            y, x = np.mgrid[0:height, 0:width]
            pattern = ((x * (c + 1) + y * (classes - c)) // 3 % 2) * 160.0
            shape = (height, width) if channels == 1 else (height, width, 3)
            noise = rng.uniform(0, 95, size=shape)
            base = pattern if channels == 1 else pattern[..., None]
            pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
            path = os.path.join(folder, f"class{c}", f"{i:03d}.png")
            write_png(path, pixels)
            images.append((path, pixels))
    return sorted(images)


def run(*arguments):
    result = subprocess.run(arguments, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"test-onnx: {' '.join(arguments)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def check(dataprep, work, name, preset, width, height, channels, classes, per_class):
    started = time.monotonic()
    folder = os.path.join(work, name)
    images = make_images(os.path.join(folder, "data"), width, height, channels, classes, per_class, seed=len(name))
    shards, run_dir = os.path.join(folder, "shards"), os.path.join(folder, "run")
    run(dataprep, "pack", os.path.join(folder, "data"), "--size", f"{width}x{height}", "--channels", str(channels), "--out", shards)
    run(dataprep, "train", "--shards", shards, "--model", preset, "--epochs", "1", "--batch-size", "8", "--run-dir", run_dir)
    checkpoint, model_path = os.path.join(run_dir, "checkpoint.dpc"), os.path.join(folder, "model.onnx")
    print("  " + run(dataprep, "export", "--model", checkpoint, "--format", "onnx", "--out", model_path).strip())

    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    metadata = {p.key: p.value for p in model.metadata_props}
    spec = json.loads(metadata["dataprep.spec"])
    assert metadata["dataprep.imageLayout"] == "nhwc", metadata
    assert (spec["width"], spec["height"], spec["channels"]) == (width, height, channels), spec
    assert json.loads(metadata["dataprep.classNames"]) == [f"class{c}" for c in range(classes)], metadata

    chosen = images[:: max(1, len(images) // IMAGES)][:IMAGES]
    assert len(chosen) == IMAGES, len(chosen)
    lines = run(dataprep, "predict", "--model", checkpoint, "--json", "--top", str(classes), *[p for p, _ in chosen])
    expected = []
    for line in lines.splitlines():
        record = json.loads(line)
        if classes == 2:
            expected.append([record["sigmoid"]])
        else:
            row = [0.0] * classes
            for p in record["predictions"]:
                row[p["label"]] = p["probability"]
            expected.append(row)
    expected = np.array(expected, dtype=np.float64)

    pixels = np.stack([p.reshape(height, width, channels) for _, p in chosen]).astype(np.float32)
    inputs = pixels * np.float32(spec["rescale"])
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (actual,) = session.run(["probabilities"], {"image": inputs})
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = float(np.abs(actual.astype(np.float64) - expected).max())
    verdict = "ok" if difference <= TOLERANCE else "FAILED"
    print(f"{name}: {IMAGES} images, {actual.shape[1]} outputs each, largest |onnxruntime - predict| = {difference:.2e} "
          f"(limit {TOLERANCE:g}) {verdict} [{time.monotonic() - started:.1f} s]")
    return difference <= TOLERANCE


def main():
    dataprep, work = sys.argv[1], sys.argv[2]
    print(f"test-onnx: onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    results = [check(dataprep, work, *case) for case in CASES]
    if not all(results):
        sys.exit("test-onnx: FAILED")
    print("test-onnx: passed")


if __name__ == "__main__":
    main()
