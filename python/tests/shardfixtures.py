"""The shard sets the tests read, written by the real dataprep (see
Tests/dataprepTests/PythonReaderTests.swift, which runs these tests from `make test`).

`DATAPREP_FIXTURES` names a folder holding shard sets and, under `expected/<set path>/`, what
dataprep's BatchLoader gives for each (shuffle off, one batch per epoch, NHWC, epochs 0..<copies in
order): `indices.i32` (the sample indices), `labels.i32` and `images.f32` (raw little-endian).
"""

import os
import unittest

import numpy as np

FIXTURES = os.environ.get("DATAPREP_FIXTURES")
needs_fixtures = unittest.skipUnless(
    FIXTURES, "DATAPREP_FIXTURES is not set: swift test (make test) or make test-torch writes the shard sets"
)


def expected_sets():
    """(set folder, sample indices, labels, float32 images flattened per sample) for every set."""
    root = os.path.join(FIXTURES, "expected")
    found = []
    for folder, _, files in sorted(os.walk(root)):
        if "images.f32" not in files:
            continue
        indices = np.fromfile(os.path.join(folder, "indices.i32"), dtype="<i4")
        labels = np.fromfile(os.path.join(folder, "labels.i32"), dtype="<i4")
        images = np.fromfile(os.path.join(folder, "images.f32"), dtype="<f4").reshape(len(indices), -1)
        found.append((os.path.join(FIXTURES, os.path.relpath(folder, root)), indices, labels, images))
    if not found:
        raise AssertionError(f"no expected batches under {root}")
    return found
