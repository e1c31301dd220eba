#!/usr/bin/env python3
"""Trains the Keras tutorial's CNN with Keras 3 (any backend) from dataprep's engine: the tutorial's
ImageDataGenerator arguments, applied afresh to every sample in every epoch by the engine.

    dataprep pack DATA/train --size 64x64 --out shards
    dataprep pack DATA/validation --size 64x64 --out shards/validation
    python3 examples/train_keras.py shards [--epochs 5] [--expect-accuracy 0.8]

Needs keras and a backend (KERAS_BACKEND: tensorflow, jax or torch) and dataprep_shards with its
engine (`make python`). Exits 1 when --expect-accuracy is given and the last epoch's validation
accuracy is below it.
"""

from __future__ import annotations

import argparse
import sys

import keras

from dataprep_shards.keras import KerasDataset

# The tutorial's ImageDataGenerator(...) arguments, unchanged (rescale=1./255 is the set's own).
AUGMENT = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
    rescale=1.0 / 255,
)


def tutorial_cnn(height: int, width: int, channels: int) -> keras.Model:
    """The tutorial's network: Conv 16-32-64 'same' + max-pools, Dense 512, one sigmoid unit."""
    return keras.Sequential(
        [
            keras.Input((height, width, channels)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shards", help="the training set (its validation set is SHARDS/validation)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expect-accuracy", type=float)
    arguments = parser.parse_args()
    keras.utils.set_random_seed(arguments.seed)

    train = KerasDataset(arguments.shards, arguments.batch_size, seed=arguments.seed, augment=AUGMENT)
    validation = KerasDataset(arguments.shards + "/validation", arguments.batch_size, shuffle=False)
    spec = train.loader.spec
    model = tutorial_cnn(spec.height, spec.width, spec.channels)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    # The loader shuffles samples every epoch; shuffle=False keeps Keras from also shuffling the
    # order of batches, which would make the engine restart for every batch.
    history = model.fit(train, validation_data=validation, epochs=arguments.epochs, shuffle=False, verbose=2)
    accuracy = history.history["val_accuracy"][-1]
    print(f"final val_accuracy {accuracy:.4f}")
    if arguments.expect_accuracy is not None and accuracy < arguments.expect_accuracy:
        print(f"expected at least {arguments.expect_accuracy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
