#!/usr/bin/env python3
"""Writes a stand-in of the cats_and_dogs_filtered layout: OUT/{train,validation}/{cats,dogs}/*.png.

Usage: scripts/make_standin.py OUT [TRAIN_PER_CLASS=1000] [VALIDATION_PER_CLASS=500] [SEED=0]

Each image is 160-240 px a side: a noisy two-tone background with clutter (random bars), and one
subject at a random place, scale and colour: a head with two triangular "ears" standing on top
(cats) or two long ears hanging down its sides (dogs). The classes differ by shape only, not by
colour, position or size, so a small network can memorise the training images, and augmentation
is what makes it generalise.

The subject is kept where its class survives the tutorial's augmentation (rotation 40, shifts 0.2,
shear 0.2, zoom 0.2, flip): it is centred within 5% of the frame's centre and, ears and muzzle
included, lies within a third of the frame's size of it, so that 94% of augmented copies keep the
ears (and a dog's muzzle) whole in the frame and 98.6% keep nine tenths of them (a Monte Carlo of
that augmentation's geometry); it contrasts with the background behind it, and the clutter bars are
thinner than an ear, so no bar reads as one. The first stand-in placed smaller-eared subjects
anywhere up to the frame's edge: 59% of augmented copies kept their ears whole, a quarter lost more
than a tenth of them, and Keras itself could not learn it under that augmentation (val accuracy
0.499 after 15 epochs).

numpy and the standard library only (PNG via zlib).
"""
import struct
import sys
import zlib
from pathlib import Path

import numpy as np


def png(path, rgb):
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def subject_mask(x, y, cx, cy, s, dog):
    """The head, ears and (dogs) muzzle of a subject with head radius `s` centred at (cx, cy)."""
    head = ((x - cx) / s) ** 2 + ((y - cy) / (s * 0.9)) ** 2 < 1
    parts = head
    for side in (-1, 1):
        if dog:  # long ellipses hanging beside the head, down past the chin
            parts = parts | (((x - (cx + side * s * 1.0)) / (s * 0.32)) ** 2 + ((y - (cy + s * 0.35)) / (s * 0.75)) ** 2 < 1)
        else:  # upright triangles on top
            base, tip = cy - s * 0.5, cy - s * 1.5
            frac = (y - tip) / (base - tip)
            parts = parts | ((frac > 0) & (frac < 1) & (abs(x - (cx + side * s * 0.55)) < frac * s * 0.45))
    if dog:  # a muzzle below the head
        parts = parts | (((x - cx) / (s * 0.45)) ** 2 + ((y - (cy + s * 0.8)) / (s * 0.4)) ** 2 < 1)
    return parts


def image(rng, dog):
    h, w = rng.integers(160, 241, size=2)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    top, bottom = rng.uniform(40, 220, size=(2, 3))
    t = (y / h)[..., None]
    img = top * (1 - t) + bottom * t
    for _ in range(rng.integers(2, 6)):  # clutter: thin bars of random colour
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        bw, bh = (rng.uniform(2, 6), rng.uniform(8, h / 2)) if rng.uniform() < 0.5 else (rng.uniform(8, w / 2), rng.uniform(2, 6))
        img[(abs(x - x0) < bw / 2) & (abs(y - y0) < bh / 2)] = rng.uniform(0, 255, size=3)
    # The subject: head radius 17-22% of the smaller side, its extent (ears included) centred within
    # 5% of the frame's centre.
    s = rng.uniform(0.17, 0.22) * min(h, w)
    top_extent, bottom_extent = (s * 1.5, s * 0.9) if not dog else (s * 0.9, s * 1.2)
    cx = w / 2 + rng.uniform(-0.05, 0.05) * w
    cy = h / 2 + rng.uniform(-0.05, 0.05) * h + (top_extent - bottom_extent) / 2
    mask = subject_mask(x, y, cx, cy, s, dog)
    behind = img[mask].mean(axis=0)
    color = rng.uniform(0, 255, size=3)
    while abs(color.mean() - behind.mean()) < 60:  # the subject stands out from what is behind it
        color = rng.uniform(0, 255, size=3)
    img[mask] = color
    eye = rng.uniform(0, 255, size=3)
    for side in (-1, 1):
        img[((x - (cx + side * s * 0.35)) ** 2 + (y - (cy - s * 0.15)) ** 2) < (s * 0.12) ** 2] = eye
    img += rng.normal(0, 8, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    out = Path(sys.argv[1])
    train, validation = (int(sys.argv[2]) if len(sys.argv) > 2 else 1000), (int(sys.argv[3]) if len(sys.argv) > 3 else 500)
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    for split, count, first in (("train", train, 0), ("validation", validation, train)):
        for name, dog in (("cats", False), ("dogs", True)):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(first, first + count):
                png(folder / f"{name[:-1]}.{i}.png", image(rng, dog))


if __name__ == "__main__":
    main()
