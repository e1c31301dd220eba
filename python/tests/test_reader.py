"""The numpy reader against sets and batches written by the real dataprep (see shardfixtures)."""

import json
import os
import pickle
import random
import shutil
import sys
import tempfile
import unittest
import warnings
from unittest import mock

import numpy as np

from dataprep_shards import ChecksumsNotVerifiedWarning, ShardError, ShardSet
from shardfixtures import FIXTURES, expected_sets, needs_fixtures

try:
    import xxhash  # noqa: F401

    HAVE_XXHASH = True
except ImportError:
    HAVE_XXHASH = False
needs_xxhash = unittest.skipUnless(HAVE_XXHASH, "xxhash is not installed: damage can only be detected with it")


@needs_fixtures
class ReaderTests(unittest.TestCase):
    def test_reads_back_what_batch_loader_gives_byte_for_byte(self):
        for path, indices, labels, images in expected_sets():
            shards = ShardSet(path)
            with self.subTest(path=path):
                self.assertEqual(len(indices), len(shards))  # every copy, one epoch each
                for row, index in enumerate(indices):
                    values, label = shards.float_sample(int(index))
                    self.assertEqual(values.dtype, np.float32)
                    self.assertEqual(values.tobytes(), images[row].tobytes(), f"sample {index}")
                    self.assertEqual(label, labels[row])
                    chw = shards.float_image(int(index), layout="nchw")
                    self.assertEqual(chw.transpose(1, 2, 0).tobytes(), values.tobytes())

    def test_len_random_access_and_indexing(self):
        for path, _, _, _ in expected_sets():
            shards = ShardSet(path)
            with self.subTest(path=path):
                self.assertEqual(len(shards), shards.manifest["count"])
                self.assertEqual(len(shards), shards.copies * shards.images_per_copy)
                spec = shards.spec
                in_order = [shards[i] for i in range(len(shards))]
                order = list(range(len(shards)))
                random.Random(1).shuffle(order)
                for i in order:
                    image, label = shards[i]
                    self.assertEqual(image.dtype, np.uint8)
                    self.assertEqual(image.shape, (spec.height, spec.width, spec.channels))
                    self.assertTrue(image.flags.writeable)  # a copy, not a view of the mapping
                    self.assertTrue(np.array_equal(image, in_order[i][0]))
                    self.assertEqual(label, in_order[i][1])
                    self.assertEqual(shards.label(np.int64(i)), label)
                self.assertTrue(np.array_equal(shards[-1][0], in_order[-1][0]))
                for outside in (len(shards), -len(shards) - 1):
                    with self.assertRaises(IndexError):
                        shards[outside]

    def test_spec_class_names_sources_and_parameters(self):
        for path, _, _, _ in expected_sets():
            shards = ShardSet(os.path.join(path, "manifest.json"))  # the manifest's path works too
            manifest = shards.manifest
            with self.subTest(path=path):
                spec = shards.spec
                self.assertEqual((spec.width, spec.height, spec.channels, spec.resize), tuple(
                    manifest["spec"][key] for key in ("width", "height", "channels", "resize")))
                self.assertEqual(np.float32(spec.rescale), np.float32(1) / np.float32(255))
                self.assertEqual(shards.class_names, manifest["classNames"])
                self.assertGreaterEqual(len(shards.class_names), 2)
                for i in range(len(shards)):
                    label = shards.label(i)
                    source = shards.source(i)
                    # Sources are paths relative to the dataset: <split>/<class>/<file> or <class>/<file>.
                    self.assertEqual(source.split("/")[-2], shards.class_names[label])
                    # The copies of one image are stored together and share its source.
                    self.assertEqual(shards.source_id(i), shards.source_id(i - i % shards.copies))
                    self.assertEqual(shards.parameters(i).shape, (len(shards.parameter_names),))
                if shards.copies > 1:
                    self.assertIn("theta", shards.parameter_names)

    def test_checksums_with_xxhash(self):
        if not HAVE_XXHASH:
            self.skipTest("xxhash is not installed")
        for path, _, _, _ in expected_sets():
            with warnings.catch_warnings():
                warnings.simplefilter("error", ChecksumsNotVerifiedWarning)
                shards = ShardSet(path)
            self.assertTrue(shards.checksums_verified)
            shards.verify()

    def test_without_xxhash_it_says_checksums_are_not_verified(self):
        path = expected_sets()[0][0]
        with mock.patch.dict(sys.modules, {"xxhash": None}):  # `import xxhash` now fails
            with self.assertWarnsRegex(ChecksumsNotVerifiedWarning, "not verified"):
                shards = ShardSet(path)
            self.assertFalse(shards.checksums_verified)
            with self.assertRaisesRegex(RuntimeError, "xxhash module is not installed"):
                shards.verify()
            image, _ = shards[0]  # reading still works
        self.assertEqual(image.tobytes(), ShardSet(path, verify_records=False)[0][0].tobytes())

    @needs_xxhash
    def test_a_damaged_record_is_detected(self):
        path = expected_sets()[0][0]
        with tempfile.TemporaryDirectory() as scratch:
            copy = shutil.copytree(path, os.path.join(scratch, "set"))
            shards = ShardSet(copy)
            first = shards.manifest["shards"][0]
            with open(os.path.join(copy, first["file"]), "r+b") as file:
                file.seek(128 + 1 * shards.manifest["layout"]["stride"] + 5)
                byte = file.read(1)
                file.seek(-1, os.SEEK_CUR)
                file.write(bytes([byte[0] ^ 0xFF]))
            damaged = ShardSet(copy)
            with self.assertRaises(ShardError) as caught:
                damaged.verify()
            self.assertEqual((caught.exception.code, caught.exception.sample), ("checksumMismatch", 1))
            self.assertIn(first["file"] + ", sample 1: ", str(caught.exception))
            with self.assertRaisesRegex(ShardError, "checksumMismatch"):
                damaged[1]
            damaged[0]
            ShardSet(copy, verify_records=False)[1]  # reading without checks is the caller's choice

    def test_a_missing_shard_is_named(self):
        path = expected_sets()[0][0]
        with tempfile.TemporaryDirectory() as scratch:
            copy = shutil.copytree(path, os.path.join(scratch, "set"))
            os.remove(os.path.join(copy, ShardSet(copy).manifest["shards"][-1]["file"]))
            with self.assertRaises(ShardError) as caught:
                ShardSet(copy)
            self.assertEqual(caught.exception.code, "missingShard")

    def test_damaged_sets_are_refused_with_dataprep_codes(self):
        """Every set of Tests/TestSupport/ManifestDamage.swift, altered as its case says, is refused
        with the code dataprep's Swift reader gave for it (written beside it by PythonReaderTests)."""
        root = os.path.join(FIXTURES, "damaged")
        cases = sorted(name for name in os.listdir(root) if name.endswith(".json"))
        self.assertGreater(len(cases), 30)
        for name in cases:
            with open(os.path.join(root, name)) as file:
                expected = json.load(file)
            folder = os.path.join(root, name[: -len(".json")])
            with self.subTest(case=expected["name"]), warnings.catch_warnings():
                warnings.simplefilter("ignore", ChecksumsNotVerifiedWarning)
                if expected["open"]:
                    with self.assertRaises(ShardError) as caught:
                        ShardSet(folder)
                    self.assertEqual(caught.exception.code, expected["open"], str(caught.exception))
                    continue
                shards = ShardSet(folder)
                if expected["verify"]:
                    with self.assertRaises(ShardError) as caught:
                        for i in range(len(shards)):
                            shards[i]
                    self.assertEqual(caught.exception.code, expected["verify"], str(caught.exception))
                    if HAVE_XXHASH:
                        with self.assertRaises(ShardError) as caught:
                            shards.verify()
                        self.assertEqual(caught.exception.code, expected["verify"], str(caught.exception))
                else:
                    for i in range(len(shards)):
                        shards[i]
                    if HAVE_XXHASH:
                        shards.verify()

    def test_pickles_without_its_mappings(self):
        path = expected_sets()[0][0]
        shards = ShardSet(path)
        before = [shards[i] for i in range(len(shards))]  # maps every shard
        data = pickle.dumps(shards)
        self.assertLess(len(data), 4096 + len(pickle.dumps(shards.manifest)))
        restored = pickle.loads(data)
        self.assertEqual(len(restored), len(shards))
        self.assertEqual(restored.checksums_verified, shards.checksums_verified)
        for i, (image, label) in enumerate(before):
            self.assertEqual(restored[i][0].tobytes(), image.tobytes())
            self.assertEqual(restored[i][1], label)


if __name__ == "__main__":
    unittest.main()
