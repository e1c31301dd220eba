#!/usr/bin/env python3
"""Writes the demo's images: good/ (JPEGs made by cjpeg, an EXIF-rotated one, a PNG with alpha)
and bad/ (a truncated JPEG, a GIF, a text file named .jpg). Standard library plus cjpeg only."""
import math
import os
import struct
import subprocess
import sys
import zlib


def photo(width, height):
    """A smooth, photo-like RGB gradient with a disc, as PPM bytes."""
    rows = bytearray()
    for y in range(height):
        for x in range(width):
            r = 90 + 120 * (1 - y / height) + 18 * math.sin(x * 0.21 + y * 0.07)
            g = 140 + 60 * (1 - y / height)
            b = 200 - 120 * y / height
            if (x - width * 0.6) ** 2 + (y - height * 0.55) ** 2 < (height * 0.25) ** 2:
                r, g, b = 220, 160, 40
            rows += bytes(max(0, min(255, int(v))) for v in (r, g, b))
    return b"P6\n%d %d\n255\n" % (width, height) + bytes(rows)


def cjpeg(ppm, *args):
    return subprocess.run(["cjpeg", *args], input=ppm, stdout=subprocess.PIPE, check=True).stdout


def with_exif_orientation(jpeg, value):
    """Inserts an APP1 Exif segment whose IFD0 holds Orientation = value."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, value, 0) + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def cut_in_half(data):
    return data[:len(data) // 2]


def png_rgba(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 8 % 256, y * 8 % 256, 128, 255 if x < width // 2 else 96)) for x in range(width))
        for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main(out):
    good, bad = os.path.join(out, "good"), os.path.join(out, "bad")
    os.makedirs(good)
    os.makedirs(bad)
    ppm = photo(500, 375)
    files = {
        os.path.join(good, "photo-baseline.jpg"): cjpeg(ppm, "-quality", "90"),
        os.path.join(good, "photo-progressive.jpg"): cjpeg(ppm, "-quality", "85", "-progressive"),
        os.path.join(good, "photo-gray.jpg"): cjpeg(ppm, "-quality", "90", "-grayscale"),
        os.path.join(good, "photo-rotated.jpg"): with_exif_orientation(cjpeg(ppm, "-quality", "90"), 6),
        os.path.join(good, "sticker.png"): png_rgba(64, 48),
        os.path.join(bad, "cut-in-half.jpg"): cut_in_half(cjpeg(ppm, "-quality", "90")),
        os.path.join(bad, "animation.gif"): b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        os.path.join(bad, "notes.jpg"): b"these are my notes, not a picture\n",
    }
    for path, data in files.items():
        with open(path, "wb") as f:
            f.write(data)
    print("wrote %d demo images under %s" % (len(files), out))


if __name__ == "__main__":
    main(sys.argv[1])
