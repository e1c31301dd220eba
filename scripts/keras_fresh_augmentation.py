#!/usr/bin/env python3
"""Keras's side of scripts/fresh_augmentation_accuracy.sh: the same model, data and augmentation.

Usage: KERAS-PYTHON scripts/keras_fresh_augmentation.py DATA SEED {pack|fresh} [EPOCHS=15]

Trains the `tutorial-dropout` CNN (Conv16-32-64 'same' with max-pools, Dropout 0.3 after the first
pool and before Flatten, Dense 512, Dropout 0.1, Dense 1 sigmoid; Adam at Keras's defaults, binary
cross-entropy) with batch 20 on DATA/train, validating on DATA/validation, both read by
ImageDataGenerator.flow_from_directory at 150x150 with rescale 1/255: `pack` without augmentation,
`fresh` with the tutorial's (rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
shear_range=0.2, zoom_range=0.2, horizontal_flip=True), drawn afresh for every sample in every epoch.
Prints one CSV line: configuration,seed,final_val_accuracy,best_val_accuracy,final_accuracy.

KERAS-PYTHON is a Python with Keras 3 and a backend, e.g. `make bench-keras`'s .build-keras/venv
(tensorflow-cpu, pillow, scipy from PyPI).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
from keras.src.legacy.preprocessing.image import ImageDataGenerator  # noqa: E402  (Keras 3 keeps it here; tf.keras exports it)

AUGMENTATION = dict(
    rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2, zoom_range=0.2,
    horizontal_flip=True,
)


def tutorial_dropout():
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((150, 150, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(), layers.Dropout(0.3),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dropout(0.1),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main():
    data, seed, configuration = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    keras.utils.set_random_seed(seed)
    augmentation = AUGMENTATION if configuration == "fresh" else {}
    flow = dict(target_size=(150, 150), batch_size=20, class_mode="binary", seed=seed)
    train = ImageDataGenerator(rescale=1.0 / 255, **augmentation).flow_from_directory(data + "/train", **flow)
    validation = ImageDataGenerator(rescale=1.0 / 255).flow_from_directory(data + "/validation", shuffle=False, **flow)
    history = tutorial_dropout().fit(train, epochs=epochs, validation_data=validation, verbose=2).history
    values = history["val_accuracy"]
    print(f"{configuration},{seed},{values[-1]:.3f},{max(values):.3f},{history['accuracy'][-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
