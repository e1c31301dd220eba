#!/usr/bin/env python3
"""Writes a small split image dataset to train on offline: OUT/{train,validation}/{horizontal,
vertical}/*.png, stripes of random period, phase and colours under noise. The class survives the
Keras tutorial's augmentation (rotations up to 40° keep horizontal stripes nearer horizontal than
vertical; shifts, zooms and flips keep stripes stripes), so a model that learns from augmented
batches must reach well above chance. Needs numpy only (the PNGs are written with zlib).

    python3 examples/make_dataset.py OUT [--train 300] [--validation 100] [--size 64] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import struct
import zlib

import numpy as np

CLASSES = ("horizontal", "vertical")


def write_png(path: str, image: np.ndarray) -> None:
    """Writes an (H, W, 3) uint8 array as an 8-bit RGB PNG."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in image)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def stripes(rng: np.random.Generator, size: int, vertical: bool) -> np.ndarray:
    """One image: soft stripes across the class's axis, two random colours, noise."""
    period = rng.uniform(6, 14)
    phase = rng.uniform(0, 2 * np.pi)
    axis = np.arange(size, dtype=np.float64)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * axis / period + phase)
    mask = np.tile(wave, (size, 1)) if vertical else np.tile(wave[:, None], (1, size))
    background, foreground = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    image = background + mask[..., None] * (foreground - background) + rng.normal(0, 12, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--train", type=int, default=300, help="images per class in train/")
    parser.add_argument("--validation", type=int, default=100, help="images per class in validation/")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    rng = np.random.default_rng(arguments.seed)
    for split, count in (("train", arguments.train), ("validation", arguments.validation)):
        for label, name in enumerate(CLASSES):
            folder = os.path.join(arguments.out, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                write_png(os.path.join(folder, f"{name}.{i}.png"), stripes(rng, arguments.size, vertical=label == 1))
    print(arguments.out)


if __name__ == "__main__":
    main()
