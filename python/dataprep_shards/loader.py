"""Batches from dataprep's engine: shuffled, freshly augmented, deterministic, in numpy arrays."""

from __future__ import annotations

import ctypes
import json
import operator
import os
import threading
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import engine
from .augment import engine_options
from .errors import ArgumentError, EngineError
from .reader import ImageSpec

__all__ = ["Loader"]

_STATE_VERSION = 1
#: The largest epoch the engine's C interface carries (an int64; ctypes would wrap a larger one
#: silently, to another epoch's batches). The engine's own limit is lower, and it names it.
_EPOCH_MAX = 2**63 - 1


def _integer(name: str, value: Any, low: int, high: Optional[int] = None) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(name, f"must be an integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ArgumentError(name, f"must be an integer, got {value!r}") from None
    if number < low or (high is not None and number > high):
        raise ArgumentError(name, f"must be at least {low}, got {number}" if high is None else f"must be in {low}...{high}, got {number}")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(name, f"must be True or False, got {value!r}")
    return bool(value)


def _choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if isinstance(value, (type, np.dtype)) and name == "dtype":
        value = np.dtype(value).name
    if value not in choices:
        raise ArgumentError(name, f"must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
    return value


def _shuffle(value: Any) -> Tuple[bool, Optional[int]]:
    """``shuffle`` as (shuffled, shard window): True or ``"global"``, False, or ``"shards:K"`` (the
    shard-aware order, ``dataprep train --shuffle shards:K``)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value), None
    if value == "global":
        return True, None
    if isinstance(value, str) and value.startswith("shards:"):
        window = value[len("shards:"):]
        if window.isdigit() and 1 <= int(window) <= 1 << 20:
            return True, int(window)
    raise ArgumentError("shuffle", f'must be True, False, "global" or "shards:K" (K a number of shards, 1...1048576), got {value!r}')


def _size(value: Any) -> Optional[Dict[str, int]]:
    """``size`` as ``(height, width)`` (Keras's ``target_size`` order) or one int for a square."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        side = _integer("size", value, 1)
        return {"width": side, "height": side}
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError("size", f"must be (height, width) or one int, got {value!r}")
    height, width = (_integer("size", v, 1) for v in value)
    return {"width": width, "height": height}


class Loader:
    """Batches of a shard set rendered by dataprep's engine (the reader ``dataprep train`` feeds its
    model from): shuffled per epoch, freshly augmented for every sample in every epoch, prefetched by
    the engine's threads (the GIL is released while they work), the same bytes whatever ``threads``
    and ``prefetch`` are.

    Epoch ``e`` (0-based) of a loader with ``seed=s`` yields exactly the batches ``dataprep train
    --seed s`` feeds its model in its epoch ``e + 1`` with the same options (``--size``, the
    augmentation options, ``--keras-compat``): same order, same pixels, same float32 values, same
    labels. Every batch is a pure function of (set, options, seed, epoch, batch index).

    Arguments (keyword-only after ``batch_size``):

    - ``path``: the set's folder (what ``dataprep pack``/``augment`` wrote), or its URL
      (``https://host/path/set``, ``http://...``, ``s3://bucket/prefix``): the shards are then
      streamed through a local cache (``cache``, default ``$DATAPREP_HOME/cache``, bounded by
      ``cache_limit`` bytes; ``cacert`` a PEM file of certificate authorities), each fetched shard
      verified; S3 credentials, region and endpoint come from the AWS environment.
    - ``shuffle``: a new permutation every epoch (from ``seed`` and the epoch); False reads in order;
      ``"shards:K"`` the shard-aware order (``dataprep train --shuffle shards:K``): the shards in a
      new order every epoch, the samples shuffled within each window of K shards, so a cache of
      K + 1 shards reads each shard once per epoch.
    - ``size``: the model's input ``(height, width)`` (Keras's ``target_size`` order; one int for a
      square); stored images of another size are resampled to it. None keeps the stored size.
    - ``augment``: ``ImageDataGenerator``'s keyword arguments, unchanged (``rotation_range``,
      ``width_shift_range``, ``height_shift_range``, ``shear_range``, ``zoom_range``,
      ``horizontal_flip``, ``vertical_flip``, ``brightness_range``, ``channel_shift_range``,
      ``fill_mode``, ``cval``, ``interpolation_order``; ``rescale`` only if it is the set's own).
    - ``keras_compat``: reproduce Keras's quirks exactly (``dataprep train --keras-compat``).
    - ``layout``: ``"nchw"`` (PyTorch) or ``"nhwc"`` (Keras, JAX). ``dtype``: ``"float32"`` (each
      byte times the set's rescale) or ``"uint8"`` (the rendered bytes).
    - ``drop_last``: leave out each epoch's short last batch.
    - ``rank``, ``world_size``: this process's share of every epoch, as ``DistributedSampler``
      divides it: every ``world_size``-th sample of the epoch's permutation from position ``rank``.
      The ranks' shares are disjoint and together hold the epoch once; a sample's pixels are the
      same whichever rank renders it. With ``drop_last`` every rank gets the same number of full
      batches (what DDP needs); without it, ranks may differ by one batch.
    - ``threads``: engine threads rendering batches (None: all cores). ``prefetch``: batches
      rendered ahead, the ring's size.
    - ``verify_records``: check each record's XXH64 before use (a damaged record raises
      :class:`ShardError` ``checksumMismatch`` naming shard and sample).

    Iterating gives ``(images, labels)``: ``images`` of shape ``(n, C, H, W)`` or ``(n, H, W, C)``,
    ``labels`` int32 of shape ``(n,)``. They are views of the loader's ring (numpy arrays the loader
    allocated once and the engine renders into: no copy on the Python side), valid until the loader
    is asked for its next batch; copy them to keep them. After an epoch is read to its end the loader
    moves to the next epoch, so ``for epoch in range(n): for x, y in loader: ...`` draws fresh
    augmentation every epoch; :meth:`set_epoch` chooses one (as with ``DistributedSampler``).
    ``loader[i]`` is batch ``i`` of the current epoch as fresh arrays (copies, yours to keep).
    :meth:`state_dict` and :meth:`load_state_dict` save and restore the position, mid-epoch too.

    Arguments are checked when the loader is made: a wrong one raises :class:`ArgumentError` (a
    ``ValueError``) naming it; a set that cannot be read raises :class:`ShardError` with the engine's
    code. A loader belongs to the process that made it (after ``fork``, make a new one in the child;
    it pickles as its arguments and position, so a spawned process gets its own). ``close()`` (or a
    ``with`` block) stops the engine's threads at once, mid-epoch too.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"],
        batch_size: int,
        *,
        shuffle: Union[bool, str] = True,
        seed: int = 0,
        size: Union[None, int, Tuple[int, int]] = None,
        augment: Optional[Mapping[str, Any]] = None,
        keras_compat: bool = False,
        layout: str = "nchw",
        dtype: Union[str, type, np.dtype] = "float32",
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        threads: Optional[int] = None,
        prefetch: int = 4,
        verify_records: bool = True,
        cache: Optional[Union[str, "os.PathLike[str]"]] = None,
        cache_limit: Optional[int] = None,
        cacert: Optional[Union[str, "os.PathLike[str]"]] = None,
    ):
        self._handle: Optional[int] = None
        self._arguments = dict(
            path=os.fspath(path), batch_size=batch_size, shuffle=shuffle, seed=seed, size=size,
            augment=dict(augment) if isinstance(augment, Mapping) else augment, keras_compat=keras_compat, layout=layout,
            dtype=dtype, drop_last=drop_last, rank=rank, world_size=world_size, threads=threads, prefetch=prefetch,
            verify_records=verify_records, cache=cache, cache_limit=cache_limit, cacert=cacert,
        )
        shuffled, window = _shuffle(shuffle)
        if not isinstance(self._arguments["path"], str):
            raise ArgumentError("path", f"must be a folder path, got {path!r}")
        options = {
            "path": self._arguments["path"],
            "batch_size": _integer("batch_size", batch_size, 1),
            "shuffle": shuffled,
            "shuffle_window": window,
            "seed": str(_integer("seed", seed, 0, 2**64 - 1)),
            "size": _size(size),
            "augment": None if augment is None else engine_options(augment),
            "keras_compat": _flag("keras_compat", keras_compat),
            "layout": _choice("layout", layout, ("nchw", "nhwc")),
            "dtype": _choice("dtype", dtype, ("float32", "uint8")),
            "drop_last": _flag("drop_last", drop_last),
            "rank": _integer("rank", rank, 0),
            "world_size": _integer("world_size", world_size, 1),
            "threads": None if threads is None else _integer("threads", threads, 1),
            "prefetch": _integer("prefetch", prefetch, 1),
            "verify_records": _flag("verify_records", verify_records),
            **engine.cache_options(cache, cache_limit, cacert),
        }
        self._lib = engine.library()
        error = engine.Error()
        handle = self._lib.dp_loader_open(json.dumps(options).encode(), ctypes.byref(error))
        if not handle:
            raise error.exception()
        self._handle = handle
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._error = error
        self._batch = engine.Batch()
        self._info = self._describe()
        self._layout = options["layout"]
        self._allocate_ring(np.dtype(options["dtype"]))
        self._epoch = 0
        self._position = 0
        # Where the engine stands: the epoch it is reading and the next batch it will hand out.
        self._cursor: Optional[Tuple[int, int]] = None

    # MARK: Setting up

    def _describe(self) -> Dict[str, Any]:
        length = self._lib.dp_loader_describe(self._handle, None, 0)
        buffer = ctypes.create_string_buffer(int(length) + 1)
        self._lib.dp_loader_describe(self._handle, buffer, len(buffer))
        return json.loads(buffer.value.decode())

    def _allocate_ring(self, dtype: np.dtype) -> None:
        """The ring: ``prefetch`` image and label buffers, allocated once, handed to the engine."""
        info = self._info
        batch, slots = info["batch_size"], info["prefetch"]
        shape = (
            (batch, info["channels"], info["height"], info["width"])
            if self._layout == "nchw"
            else (batch, info["height"], info["width"], info["channels"])
        )
        self._images = [np.zeros(shape, dtype=dtype) for _ in range(slots)]
        self._labels = [np.zeros(batch, dtype=np.int32) for _ in range(slots)]
        images = (ctypes.c_void_p * slots)(*(a.ctypes.data for a in self._images))
        labels = (ctypes.POINTER(ctypes.c_int32) * slots)(
            *(a.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)) for a in self._labels)
        )
        if self._lib.dp_loader_attach(self._handle, slots, images, labels, ctypes.byref(self._error)) != 0:
            raise self._error.exception()

    # MARK: What the batches are

    @property
    def class_names(self) -> List[str]:
        """Class names in label order: label ``i`` is ``class_names[i]``."""
        return list(self._info["class_names"])

    @property
    def spec(self) -> ImageSpec:
        """What each image of a batch is: the model's input size, channels, resize and rescale."""
        info = self._info
        return ImageSpec(info["width"], info["height"], info["channels"], info["resize"], float(info["rescale"]))

    @property
    def samples_per_epoch(self) -> int:
        """Samples this loader (this rank) reads per epoch."""
        return self._info["samples_per_epoch"]

    @property
    def batch_size(self) -> int:
        return self._info["batch_size"]

    def __len__(self) -> int:
        """Batches per epoch (this rank's)."""
        n, b = self.samples_per_epoch, self.batch_size
        return n // b if self._arguments["drop_last"] else -(-n // b)

    def order(self, epoch: Optional[int] = None) -> np.ndarray:
        """The set's sample indices this loader reads in ``epoch`` (default: the current one), in
        order: batch ``i`` holds ``order[i * batch_size : (i + 1) * batch_size]``."""
        epoch = self._epoch if epoch is None else _integer("epoch", epoch, 0, _EPOCH_MAX)
        samples = np.zeros(self.samples_per_epoch, dtype=np.int64)
        with self._engine():
            status = self._lib.dp_loader_order(
                self._handle, epoch, samples.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), len(samples),
                ctypes.byref(self._error),
            )
            if status != 0:
                raise self._error.exception()
        return samples

    # MARK: Position

    @property
    def epoch(self) -> int:
        """The epoch the next iteration reads (0-based)."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Reads epoch ``epoch`` (0-based) from its first batch on the next iteration."""
        self._epoch = _integer("epoch", epoch, 0, _EPOCH_MAX)
        self._position = 0

    def state_dict(self) -> Dict[str, Any]:
        """The position (epoch and next batch) and what the batches depend on, to resume exactly
        with :meth:`load_state_dict`, in the middle of an epoch too."""
        return {
            "version": _STATE_VERSION,
            "epoch": self._epoch,
            "batch": self._position,
            "options": self._fingerprint(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continues where :meth:`state_dict` was taken: the next iteration yields its next batch.

        Raises :class:`ArgumentError` when the state was taken from a loader with other options or
        another set (naming what differs)."""
        if (
            not isinstance(state, Mapping) or isinstance(state.get("version"), bool) or state.get("version") != _STATE_VERSION
            or not isinstance(state.get("options"), Mapping)
        ):
            raise ArgumentError("state", "is not a state_dict() of this version of dataprep_shards")
        theirs, mine = state["options"], self._fingerprint()
        for key in sorted(set(mine) | set(theirs), key=str):
            if theirs.get(key) != mine.get(key):
                raise ArgumentError("state", f"was taken with {key}={theirs.get(key)!r}; this loader has {mine.get(key)!r}")
        epoch = _integer("state['epoch']", state.get("epoch"), 0, _EPOCH_MAX)
        batch = _integer("state['batch']", state.get("batch"), 0, len(self))
        self._epoch, self._position = epoch, batch

    def _fingerprint(self) -> Dict[str, Any]:
        """What the batches are a function of, besides epoch and batch index."""
        arguments = {
            k: v for k, v in self._arguments.items()
            if k not in ("path", "threads", "prefetch", "verify_records", "cache", "cache_limit", "cacert")
        }
        arguments["dtype"] = np.dtype(arguments["dtype"]).name
        arguments["size"] = None if arguments["size"] is None else json.dumps(_size(arguments["size"]), sort_keys=True)
        arguments["augment"] = None if arguments["augment"] is None else json.dumps(engine_options(arguments["augment"]), sort_keys=True)
        arguments["set"] = self._info["set"]["digests"]
        return arguments

    # MARK: Batches

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """The batches of the current epoch from the current position; at its end the loader moves
        to the next epoch."""
        if self._position >= len(self):
            self._epoch, self._position = self._epoch + 1, 0
        epoch, index = self._epoch, self._position
        while index < len(self):
            images, labels = self._fetch(epoch, index)
            index += 1
            if (self._epoch, self._position) == (epoch, index - 1):
                self._position = index
            yield images, labels
        if (self._epoch, self._position) == (epoch, index):
            self._epoch, self._position = epoch + 1, 0

    def __getitem__(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """``batch(index)``: batch ``index`` of the current epoch, as fresh arrays."""
        return self.batch(index)

    def batch(self, index: int, epoch: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` (negative counts from the end) of ``epoch`` (default: the current one)
        as fresh arrays (copies, yours to keep). Reading batches in order this way is as fast as
        iterating: the engine keeps rendering ahead. It does not move the iteration's position."""
        count = len(self)
        index = operator.index(index)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"batch {index} is outside 0..<{count}")
        epoch = self._epoch if epoch is None else _integer("epoch", epoch, 0, _EPOCH_MAX)
        images, labels = self._fetch(epoch, index)
        return images.copy(), labels.copy()

    def _fetch(self, epoch: int, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Batch ``index`` of ``epoch`` as views of its ring slot: the engine's next batch when it
        stands there, else the engine restarts there."""
        with self._engine():
            if self._cursor != (epoch, index):
                self._cursor = None
                if self._lib.dp_loader_start(self._handle, epoch, index, ctypes.byref(self._error)) != 0:
                    raise self._error.exception()
                self._cursor = (epoch, index)
            status = self._lib.dp_loader_next(self._handle, ctypes.byref(self._batch), ctypes.byref(self._error))
            if status < 0:
                self._cursor = None  # the engine stays at the failing batch; start afresh next time
                raise self._error.exception()
            if status == 0:
                raise EngineError("internal", f"the engine ended epoch {epoch} before batch {index}")
            batch = self._batch
            self._cursor = (epoch, index + 1)
            slot, count = batch.slot, batch.count
            return self._images[slot][:count], self._labels[slot][:count]

    # MARK: Lifetime

    def _engine(self) -> "_EngineCall":
        return _EngineCall(self)

    def close(self) -> None:
        """Stops the engine's threads (waiting for them) and frees the engine's state. Arrays the
        loader gave out stay valid (their memory is Python's). Idempotent."""
        if self._handle is None or getattr(self, "_pid", None) != os.getpid():
            return
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is not None:
                self._lib.dp_loader_close(handle)

    def __enter__(self) -> "Loader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (self._arguments, self.state_dict()))

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"epoch {self._epoch}, batch {self._position}/{len(self)}"
        return f"Loader({self._arguments['path']!r}, batch_size={self.batch_size}, {state})"


class _EngineCall:
    """Holds a loader's lock around a call into the engine, after checking the loader is open and
    in the process that made it (checked before the lock: a forked child may inherit it held)."""

    def __init__(self, loader: Loader):
        self.loader = loader

    def __enter__(self) -> None:
        loader = self.loader
        if loader._pid != os.getpid():
            raise EngineError(
                "misuse",
                f"this Loader was made in process {loader._pid}; its engine threads do not exist after fork: make a new "
                "Loader in this process (or pickle it: it pickles as its arguments and position)",
            )
        loader._lock.acquire()
        if loader._handle is None:
            loader._lock.release()
            raise EngineError("misuse", "the Loader is closed")

    def __exit__(self, *exc: Any) -> None:
        self.loader._lock.release()


def _rebuild(arguments: Dict[str, Any], state: Dict[str, Any]) -> Loader:
    """Unpickles a :class:`Loader`: a new one with the same arguments, at the same position."""
    loader = Loader(**arguments)
    loader.load_state_dict(state)
    return loader
