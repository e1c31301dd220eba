#!/usr/bin/env python3
"""`make bench-keras`: Keras on the same files and model as dataprep's benchmark, in the same run.

Reads the rows dataprep-bench wrote (BENCH_JSON) and the JPEGs it kept (two class folders), then
measures, with TensorFlow's Keras on this machine:
  - ImageDataGenerator.flow_from_directory to 150x150, no augmentation (rescale only);
  - the same with the tutorial's augmentation (rotation 40, shifts 0.2, shear 0.2, zoom 0.2, flip);
  - model.fit and model.evaluate of the tutorial CNN (Conv16-32-64 + Dense 512), batch 100.
Prints images/s for both and the ratio dataprep ÷ Keras.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

IMAGES, ROWS = sys.argv[1], sys.argv[2]
dataprep = {row["stage"]: row["rate"] for row in json.load(open(ROWS))}


def dataprep_rate(prefix):
    for stage, rate in dataprep.items():
        if stage.startswith(prefix):
            return rate
    return None


def generator_rate(**augmentation):
    """Images per second over one pass of flow_from_directory (decode, resize, augment, batch)."""
    generator = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1.0 / 255, **augmentation)
    flow = generator.flow_from_directory(IMAGES, target_size=(150, 150), batch_size=100, class_mode="binary", shuffle=False)
    start, seen = time.perf_counter(), 0
    for _ in range(len(flow)):
        x, _ = next(flow)
        seen += len(x)
    return seen / (time.perf_counter() - start)


def tutorial_model():
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input((150, 150, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def training_rates():
    rng = np.random.default_rng(42)
    x = rng.random((1000, 150, 150, 3), dtype=np.float32)
    y = (np.arange(1000) % 2).astype(np.float32)
    model = tutorial_model()
    model.fit(x[:200], y[:200], batch_size=100, epochs=1, verbose=0)  # warm-up: tracing, allocation
    start = time.perf_counter()
    model.fit(x, y, batch_size=100, epochs=1, verbose=0)
    train = 1000 / (time.perf_counter() - start)
    model.evaluate(x[:200], y[:200], batch_size=100, verbose=0)
    start = time.perf_counter()
    model.evaluate(x, y, batch_size=100, verbose=0)
    return train, 1000 / (time.perf_counter() - start)


print("\nKeras (TensorFlow %s) on the same files and model, this machine, same run" % tf.__version__, flush=True)
plain = generator_rate()
augmented = generator_rate(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2,
                           zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")
train, evaluate = training_rates()
# The performance issue's targets for dataprep ÷ Keras (None: no target).
rows = [
    ("JPEGs → 150x150 batches, no augmentation", plain, dataprep_rate("pack: decode+resize+shard write"), None),
    ("JPEGs → 150x150, tutorial augmentation", augmented, dataprep_rate("whole prep: decode+augment"), 8),
    ("tutorial CNN training, batch 100", train, dataprep_rate("tutorial train step, batch 100, NCHW"), 2),
    ("tutorial CNN evaluation, batch 100", evaluate, dataprep_rate("tutorial evaluate (forward only), NCHW"), 2),
]
print("%-44s %14s %16s %18s  %s" % ("stage", "Keras images/s", "dataprep images/s", "dataprep ÷ Keras", "target"))
for stage, keras_rate, ours, target in rows:
    ratio = "%.1fx" % (ours / keras_rate) if ours else "n/a"
    verdict = "" if target is None or not ours else ("≥ %dx: %s" % (target, "met" if ours / keras_rate >= target else "NOT met"))
    print("%-44s %14.0f %16s %18s  %s" % (stage, keras_rate, "%.0f" % ours if ours else "n/a", ratio, verdict))
