#!/usr/bin/env python3
"""Writes a stand-in of the cats_and_dogs_filtered layout: OUT/{train,validation}/{cats,dogs}/*.png.

Usage: scripts/make_standin.py OUT [TRAIN_PER_CLASS=1000] [VALIDATION_PER_CLASS=500] [SEED=0]

Each image is 160-240 px a side: a noisy two-tone background with clutter (random bars), and one
subject drawn at a random place, scale and colour: an ellipse with two triangular "ears" (cats)
or an ellipse with two drooping ellipse "ears" (dogs). The classes differ by shape only, not by
colour, position or size, so a small network can memorise the training images and augmentation
(rotation, shift, zoom, flip) helps it generalise. numpy and the standard library only (PNG via zlib).
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


def image(rng, dog):
    h, w = rng.integers(160, 241, size=2)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    top, bottom = rng.uniform(40, 220, size=(2, 3))
    t = (y / h)[..., None]
    img = top * (1 - t) + bottom * t
    for _ in range(rng.integers(2, 6)):  # clutter: bars of random colour
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        bw, bh = rng.uniform(4, w / 3), rng.uniform(4, h / 3)
        img[(abs(x - x0) < bw / 2) & (abs(y - y0) < bh / 2)] = rng.uniform(0, 255, size=3)
    s = rng.uniform(0.18, 0.32) * min(h, w)  # the subject's head radius
    cx, cy = rng.uniform(s * 1.3, w - s * 1.3), rng.uniform(s * 1.6, h - s * 1.3)
    color = rng.uniform(0, 255, size=3)
    head = ((x - cx) / s) ** 2 + ((y - cy) / (s * 0.85)) ** 2 < 1
    ears = np.zeros_like(head)
    for side in (-1, 1):
        ex = cx + side * s * 0.6
        if dog:  # drooping ellipses beside the head
            ears |= ((x - (cx + side * s * 1.05)) / (s * 0.3)) ** 2 + ((y - (cy + s * 0.2)) / (s * 0.7)) ** 2 < 1
        else:  # upright triangles on top
            base, tip = cy - s * 0.5, cy - s * 1.45
            frac = (y - tip) / (base - tip)
            ears |= (frac > 0) & (frac < 1) & (abs(x - ex) < frac * s * 0.38)
    img[head | ears] = color
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
