"""The engine-backed Loader against what `dataprep train` feeds its model, and its contracts:
determinism across threads, ranks, resuming, errors and misuse.

Needs numpy, the engine library (``DATAPREP_ENGINE`` or the copy `make python` installs) and the sets
and expected batches that ``swift test --filter PythonLoaderTests`` writes into
``DATAPREP_LOADER_FIXTURES``; without the fixtures every test here is skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import shutil
import tempfile
import unittest

import numpy as np

import dataprep_shards as dp

FIXTURES = os.environ.get("DATAPREP_LOADER_FIXTURES")
#: The fixtures folder served by the Swift test's loopback HTTP server.
FIXTURES_URL = os.environ.get("DATAPREP_LOADER_URL")
HAVE_TORCH = importlib.util.find_spec("torch") is not None
HAVE_KERAS = importlib.util.find_spec("keras") is not None
NO_FIXTURES = "DATAPREP_LOADER_FIXTURES is not set: run `swift test --filter PythonLoaderTests`"
FRESH = dict(rotation_range=45, width_shift_range=0.15, height_shift_range=0.15, zoom_range=0.5, horizontal_flip=True)


def fixture(*parts: str) -> str:
    return os.path.join(FIXTURES, *parts)


def read_epoch(loader: dp.Loader, epoch: int):
    """Every batch of ``epoch``, copied: (images, labels) concatenated."""
    loader.set_epoch(epoch)
    batches = [(images.copy(), labels.copy()) for images, labels in loader]
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


@unittest.skipUnless(FIXTURES, NO_FIXTURES)
class TrainParityTests(unittest.TestCase):
    def test_batches_are_what_train_feeds(self):
        with open(fixture("cases.json")) as file:
            cases = json.load(file)
        with open(fixture("augment.json")) as file:
            augment = json.load(file)
        self.assertEqual(len(cases), 7)
        for case in cases:
            arguments = dict(case["loader"])
            if "augment" in arguments:
                arguments["augment"] = augment[arguments["augment"]]
            if "size" in arguments:
                arguments["size"] = tuple(int(v) for v in arguments["size"])
            with self.subTest(case=case["name"]), dp.Loader(
                fixture(case["set"]), case["batch_size"], layout=case["layout"], threads=2, **arguments
            ) as loader:
                for epoch in case["epochs"]:
                    expected = fixture("expected", case["name"], str(epoch))
                    images, labels = read_epoch(loader, epoch)
                    want = np.fromfile(os.path.join(expected, "images.f32"), dtype="<f4")
                    # Bit for bit: compare the float32 bit patterns.
                    self.assertEqual(images.size, want.size)
                    self.assertTrue(np.array_equal(images.reshape(-1).view("<u4"), want.view("<u4")), case["name"])
                    self.assertTrue(np.array_equal(labels, np.fromfile(os.path.join(expected, "labels.i32"), dtype="<i4")))
                    order = np.fromfile(os.path.join(expected, "indices.i64"), dtype="<i8")
                    self.assertTrue(np.array_equal(loader.order(epoch), order))


@unittest.skipUnless(FIXTURES and FIXTURES_URL, "DATAPREP_LOADER_URL is not set: run `swift test --filter PythonLoaderTests`")
class URLTests(unittest.TestCase):
    """A set read from a URL: the batches and samples of its folder, through the shard cache."""

    def setUp(self):
        self.cache = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.cache, True)

    def test_the_loader_reads_the_same_batches_from_the_url(self):
        for shuffle in (True, "shards:1"):
            with dp.Loader(fixture("rgb"), 4, seed=3, augment=FRESH, shuffle=shuffle) as local, dp.Loader(
                FIXTURES_URL + "/rgb", 4, seed=3, augment=FRESH, shuffle=shuffle, cache=self.cache, cache_limit=20000
            ) as remote:
                for epoch in (0, 1):
                    mine, theirs = read_epoch(local, epoch), read_epoch(remote, epoch)
                    self.assertTrue(np.array_equal(mine[0], theirs[0]), shuffle)
                    self.assertTrue(np.array_equal(mine[1], theirs[1]))

    def test_the_reader_maps_the_cached_shards_of_a_url(self):
        local, remote = dp.ShardSet(fixture("gray")), dp.ShardSet(FIXTURES_URL + "/gray/", cache=self.cache)
        self.assertEqual(len(remote), len(local))
        self.assertEqual(remote.directory, FIXTURES_URL + "/gray")
        for i in range(len(local)):
            self.assertTrue(np.array_equal(remote[i][0], local[i][0]))
            self.assertEqual(remote[i][1], local[i][1])
        copy = pickle.loads(pickle.dumps(remote))
        self.assertTrue(np.array_equal(copy[0][0], local[0][0]))

    def test_a_missing_set_or_bad_url_raises_naming_it(self):
        with self.assertRaises(dp.ShardError) as raised:
            dp.Loader(FIXTURES_URL + "/nothing", 4, cache=self.cache)
        self.assertEqual(raised.exception.code, "manifestMismatch")
        self.assertIn("/nothing/manifest.json", raised.exception.file)
        with self.assertRaises(dp.ArgumentError) as bad:
            dp.Loader("s3://UPPER/set", 4, cache=self.cache)
        self.assertEqual(bad.exception.argument, "path")
        with self.assertRaises(dp.ArgumentError) as limit:
            dp.Loader(FIXTURES_URL + "/rgb", 4, cache=self.cache, cache_limit=0)
        self.assertEqual(limit.exception.argument, "cache_limit")
        with self.assertRaises(dp.ArgumentError) as shuffle:
            dp.Loader(FIXTURES_URL + "/rgb", 4, shuffle="shards:0")
        self.assertEqual(shuffle.exception.argument, "shuffle")


@unittest.skipUnless(FIXTURES, NO_FIXTURES)
class LoaderContractTests(unittest.TestCase):
    def loader(self, **arguments) -> dp.Loader:
        arguments.setdefault("batch_size", 4)
        loader = dp.Loader(fixture("rgb"), **arguments)
        self.addCleanup(loader.close)
        return loader

    def test_threads_and_prefetch_do_not_change_a_byte(self):
        one = read_epoch(self.loader(threads=1, prefetch=1, augment=FRESH, seed=3), 1)
        two = read_epoch(self.loader(threads=2, prefetch=5, augment=FRESH, seed=3), 1)
        self.assertTrue(np.array_equal(one[0], two[0]))
        self.assertTrue(np.array_equal(one[1], two[1]))

    def test_epochs_differ_and_iteration_moves_to_the_next_epoch(self):
        loader = self.loader(augment=FRESH, seed=1)
        first = np.concatenate([images.copy() for images, _ in loader])
        self.assertEqual(loader.epoch, 1)
        second = np.concatenate([images.copy() for images, _ in loader])
        self.assertFalse(np.array_equal(first, second))
        self.assertTrue(np.array_equal(read_epoch(loader, 0)[0], first))

    def test_ranks_share_an_epoch_once_with_the_same_pixels(self):
        whole = self.loader(augment=FRESH, seed=8, batch_size=5)
        images, _ = read_epoch(whole, 2)
        pixels = dict(zip(whole.order(2).tolist(), images))
        seen = []
        for rank in range(3):
            part = self.loader(augment=FRESH, seed=8, batch_size=5, rank=rank, world_size=3)
            order = part.order(2).tolist()
            part_images, _ = read_epoch(part, 2)
            self.assertEqual(len(part_images), len(order))
            for sample, image in zip(order, part_images):
                self.assertTrue(np.array_equal(image, pixels[sample]), f"rank {rank} sample {sample}")
            seen += order
        self.assertEqual(sorted(seen), list(range(len(pixels))))  # the whole set, once

    def test_drop_last_gives_every_rank_the_same_full_batches(self):
        lengths = {len(self.loader(batch_size=4, rank=r, world_size=2, drop_last=True)) for r in range(2)}
        self.assertEqual(lengths, {3})  # 27 samples: 24 in 2 ranks × 3 batches of 4

    def test_load_state_dict_continues_mid_epoch_identically(self):
        loader = self.loader(augment=FRESH, seed=5)
        loader.set_epoch(3)
        iterator = iter(loader)
        for _ in range(2):
            next(iterator)
        state = pickle.loads(pickle.dumps(loader.state_dict()))
        rest = [images.copy() for images, _ in iterator]
        resumed = self.loader(augment=FRESH, seed=5, threads=1)
        resumed.load_state_dict(state)
        again = [images.copy() for images, _ in resumed]
        self.assertEqual(len(again), len(loader) - 2)
        self.assertTrue(all(np.array_equal(a, b) for a, b in zip(rest, again)))
        with self.assertRaises(ValueError) as raised:
            self.loader(augment=FRESH, seed=6).load_state_dict(state)
        self.assertIn("seed", str(raised.exception))

    def test_random_access_and_pickling(self):
        loader = self.loader(augment=FRESH, seed=2)
        images, labels = read_epoch(loader, 0)
        self.assertEqual(loader.epoch, 1)  # reading an epoch to its end moves to the next
        loader.set_epoch(0)
        x, y = loader[2]
        self.assertTrue(np.array_equal(x, images[8:12]) and np.array_equal(y, labels[8:12]))
        copy = pickle.loads(pickle.dumps(loader))
        self.addCleanup(copy.close)
        self.assertTrue(np.array_equal(copy[-1][0], images[-(len(images) % 4 or 4):]))

    def test_uint8_and_nhwc_are_the_same_values(self):
        floats = read_epoch(self.loader(augment=FRESH, seed=4), 0)[0]
        loader = self.loader(augment=FRESH, seed=4, dtype="uint8", layout="nhwc")
        raw = read_epoch(loader, 0)[0]
        self.assertEqual(raw.dtype, np.uint8)
        scaled = raw.transpose(0, 3, 1, 2).astype(np.float32) * np.float32(loader.spec.rescale)
        self.assertTrue(np.array_equal(scaled, floats))

    def test_a_damaged_record_raises_its_code_naming_shard_and_sample(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        damaged = os.path.join(folder, "set")
        shutil.copytree(fixture("rgb"), damaged)
        shard = sorted(f for f in os.listdir(damaged) if f.endswith(".dps"))[0]
        with open(os.path.join(damaged, "manifest.json")) as file:
            stride = json.load(file)["layout"]["stride"]
        with open(os.path.join(damaged, shard), "r+b") as file:
            file.seek(128 + stride + 100)  # inside the second record's pixels
            byte = file.read(1)
            file.seek(-1, os.SEEK_CUR)
            file.write(bytes([byte[0] ^ 0xFF]))
        loader = dp.Loader(damaged, 30, shuffle=False)
        self.addCleanup(loader.close)
        with self.assertRaises(dp.ShardError) as raised:
            list(loader)
        self.assertEqual(raised.exception.code, "checksumMismatch")
        self.assertEqual(os.path.basename(raised.exception.file), shard)
        self.assertEqual(raised.exception.sample, 1)
        os.remove(os.path.join(damaged, shard))
        with self.assertRaises(dp.ShardError) as raised:
            dp.Loader(damaged, 4)
        self.assertEqual(raised.exception.code, "missingShard")

    def test_a_damaged_manifest_raises_the_readers_code(self):
        """The engine opens sets through dataprep's ShardSet, so it refuses what every reader
        refuses, with the same code: here a shard named outside the set's folder, a count that
        does not match the shards, and a class list that is empty."""
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        edits = {
            "outside": lambda m: m["shards"][0].update(file="../" + m["shards"][0]["file"]),
            "absolute": lambda m: m["shards"][0].update(file="/etc/passwd"),
            "count": lambda m: m.update(count=m["count"] + 1),
            "classes": lambda m: m.update(classNames=[]),
            "copies": lambda m: m.update(copies=0),
        }
        for name, edit in edits.items():
            damaged = os.path.join(folder, name)
            shutil.copytree(fixture("rgb"), damaged)
            path = os.path.join(damaged, "manifest.json")
            with open(path) as file:
                manifest = json.load(file)
            edit(manifest)
            with open(path, "w") as file:
                json.dump(manifest, file)
            with self.subTest(edit=name), self.assertRaises(dp.ShardError) as raised:
                dp.Loader(damaged, 4)
            self.assertEqual(raised.exception.code, "manifestMismatch", str(raised.exception))
            with self.assertRaises(dp.ShardError) as numpy_reader:
                dp.ShardSet(damaged)
            self.assertEqual(numpy_reader.exception.code, raised.exception.code)

    def test_bad_arguments_raise_value_errors_naming_them(self):
        cases = {
            "batch_size": dict(batch_size=0),
            "seed": dict(seed=-1),
            "layout": dict(layout="chw"),
            "dtype": dict(dtype="float16"),
            "size": dict(size=(0, 10)),
            "rank": dict(rank=2, world_size=2),
            "world_size": dict(world_size=0),
            "threads": dict(threads=10**6),
            "prefetch": dict(prefetch=0),
            "shuffle": dict(shuffle="yes"),
            "augment": dict(augment=[1, 2]),
            "rotation_range": dict(augment=dict(rotation_range=1e12)),
            "width_shift_range": dict(augment=dict(width_shift_range=float("nan"))),
            "zoom_range": dict(augment=dict(zoom_range=(1.5, 0.5))),
            "brightness_range": dict(augment=dict(brightness_range=(0.5,))),
            "fill_mode": dict(augment=dict(fill_mode="mirror")),
            "cval": dict(augment=dict(cval=-1)),
            "featurewise_center": dict(augment=dict(featurewise_center=True)),
            "rescale": dict(augment=dict(rescale=0.5)),
            "shear": dict(augment=dict(shear=3)),
            "interpolation_order": dict(keras_compat=True, augment=dict(interpolation_order=0)),
        }
        for argument, arguments in cases.items():
            with self.subTest(argument=argument):
                with self.assertRaises(ValueError) as raised:
                    self.loader(**arguments)
                self.assertEqual(raised.exception.argument, argument)
                self.assertTrue(str(raised.exception).startswith(argument), str(raised.exception))
        # Keras's defaults of what the engine does not do are accepted, and so is the set's own rescale.
        self.loader(augment=dict(featurewise_center=False, zca_epsilon=1e-6, rescale=1 / 255, validation_split=0.0))

    def test_epochs_past_int64_are_refused_not_wrapped_to_another_epoch(self):
        # ctypes wraps an int past the engine's int64 silently: 2**64 read epoch 0's batches.
        loader = self.loader(augment=FRESH, seed=4)
        for huge in (2**63, 2**64, 2**64 + 3):
            for call in (lambda: loader.batch(0, huge), lambda: loader.order(huge), lambda: loader.set_epoch(huge)):
                with self.subTest(epoch=huge), self.assertRaises(dp.ArgumentError) as raised:
                    call()
                self.assertEqual(raised.exception.argument, "epoch")
            state = dict(loader.state_dict(), epoch=huge)
            with self.assertRaises(dp.ArgumentError) as raised:
                loader.load_state_dict(state)
            self.assertEqual(raised.exception.argument, "state['epoch']")
        # An int64 past the engine's limit reaches it unwrapped, and it names its limit.
        with self.assertRaises(dp.ArgumentError) as raised:
            loader.batch(0, 2**63 - 1)
        self.assertEqual(raised.exception.argument, "epoch")
        self.assertIn("1099511627776", str(raised.exception))

    def test_hostile_state_dicts_raise_argument_errors(self):
        loader = self.loader()
        good = loader.state_dict()
        for state in (
            {"version": 1}, dict(good, options=None), dict(good, options=float("nan")), dict(good, options="x"),
            dict(good, options=[1]), dict(good, version=True), dict(good, version=float("nan")), None, [],
        ):
            with self.subTest(state=state), self.assertRaises(dp.ArgumentError) as raised:
                loader.load_state_dict(state)
            self.assertEqual(raised.exception.argument, "state")
        with self.assertRaises(dp.ArgumentError) as raised:
            loader.load_state_dict(dict(good, options={1: 2}))
        self.assertEqual(raised.exception.argument, "state")
        loader.load_state_dict(good)

    def test_the_reader_checks_its_cache_options(self):
        # A NaN reached the engine as JSON it cannot read ("the options are not valid JSON").
        for arguments, name in (
            (dict(cache_limit=float("nan")), "cache_limit"), (dict(cache_limit=float("inf")), "cache_limit"),
            (dict(cache_limit=0), "cache_limit"), (dict(cache_limit=True), "cache_limit"), (dict(cache_limit=""), "cache_limit"),
            (dict(cacert=float("nan")), "cacert"), (dict(cache=3), "cache"),
        ):
            with self.subTest(arguments=arguments), self.assertRaises(dp.ArgumentError) as raised:
                dp.ShardSet(fixture("rgb"), **arguments)
            self.assertEqual(raised.exception.argument, name)
        self.assertEqual(len(dp.ShardSet(fixture("rgb"), cache_limit=10**12)), 27)

    def test_misuse_never_crashes(self):
        loader = self.loader(augment=FRESH)
        # Two iterations at once: each gets its own epoch's batches (the engine restarts between them).
        a, b = iter(loader), iter(loader)
        first_a = next(a)[0].copy()
        loader.set_epoch(1)
        first_b = next(iter(loader))[0].copy()
        second_a = next(a)[0].copy()
        self.assertTrue(np.array_equal(first_a, read_epoch(self.loader(augment=FRESH), 0)[0][:4]))
        self.assertFalse(np.array_equal(first_a, first_b))
        self.assertTrue(np.array_equal(second_a, read_epoch(self.loader(augment=FRESH), 0)[0][4:8]))
        del b
        # Closing mid-epoch stops the engine; what was handed out stays readable; later use raises.
        kept = next(a)[0]
        loader.close()
        loader.close()
        self.assertEqual(kept.shape[0], 4)
        with self.assertRaises(dp.EngineError) as raised:
            next(a)
        self.assertEqual(raised.exception.code, "misuse")
        # After fork, the child cannot use its parent's loader: an error, not a hang or a crash.
        other = self.loader(augment=FRESH)
        next(iter(other))
        pid = os.fork()
        if pid == 0:
            try:
                other[0]
                os._exit(2)
            except dp.EngineError as error:
                os._exit(0 if error.code == "misuse" else 3)
            except BaseException:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(len(other[1][0]), 4)  # the parent's loader still works


@unittest.skipUnless(FIXTURES, NO_FIXTURES)
@unittest.skipUnless(HAVE_TORCH, "torch is not installed: make test-torch installs it")
class TorchLoaderTests(unittest.TestCase):
    def test_tensors_are_the_loaders_arrays_without_a_copy(self):
        import torch

        from dataprep_shards.torch import TorchLoader

        expected = read_epoch(dp.Loader(fixture("rgb"), 4, augment=FRESH, seed=6), 0)
        loader = TorchLoader(fixture("rgb"), 4, augment=FRESH, seed=6)
        self.addCleanup(loader.close)
        images, labels = [], []
        for x, y in loader:
            self.assertEqual((x.dtype, y.dtype), (torch.float32, torch.int64))
            images.append(x.clone())
            labels.append(y)
        self.assertTrue(np.array_equal(torch.cat(images).numpy(), expected[0]))
        self.assertTrue(np.array_equal(torch.cat(labels).numpy(), expected[1]))
        self.assertEqual(loader.epoch, 1)
        if not torch.cuda.is_available():
            with self.assertWarns(UserWarning):
                TorchLoader(fixture("rgb"), 4, pin_memory=True).close()

    def test_ranks_come_from_the_arguments(self):
        from dataprep_shards.torch import TorchLoader

        shares = [TorchLoader(fixture("rgb"), 4, rank=r, world_size=2, drop_last=True) for r in range(2)]
        self.assertEqual([len(s) for s in shares], [3, 3])
        orders = [s.loader.order(0) for s in shares]
        self.assertFalse(set(orders[0]) & set(orders[1]))


@unittest.skipUnless(FIXTURES, NO_FIXTURES)
@unittest.skipUnless(HAVE_KERAS, "keras is not installed: make test-keras installs it")
class KerasDatasetTests(unittest.TestCase):
    def test_items_are_the_loaders_batches_and_epochs_advance(self):
        import warnings

        from dataprep_shards.keras import KerasDataset

        dataset = KerasDataset(fixture("rgb"), 4, augment=FRESH, seed=6)
        self.addCleanup(dataset.loader.close)
        reference = dp.Loader(fixture("rgb"), 4, augment=FRESH, seed=6, layout="nhwc")
        self.addCleanup(reference.close)
        self.assertEqual(len(dataset), len(reference))
        for epoch in range(2):
            for index in range(len(dataset)):
                x, y = dataset[index]
                want = reference.batch(index, epoch=epoch)
                self.assertTrue(np.array_equal(x, want[0]) and np.array_equal(y, want[1]))
            dataset.on_epoch_end()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dataset[3]
        self.assertTrue(any("shuffle=False" in str(w.message) for w in caught))


if __name__ == "__main__":
    unittest.main()
