"""Reads dataprep shard sets with numpy: the stored pixels, sample by sample (no augmentation)."""

from __future__ import annotations

import bisect
import json
import operator
import os
import stat
import warnings
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from ._format import (
    ABSENT,
    FORMAT_VERSION,
    HEADER_SIZE,
    MAGIC,
    MANIFEST_MAX_BYTES,
    MANIFEST_VERSION,
    NO_XXHASH,
)
from ._manifest import (
    MAXIMUM_PARAMETERS,
    MAXIMUM_PIXELS,
    MAXIMUM_SIDE,
    _is_int,
    _refuse_constant,
    record_layout,
    validate_manifest,
)
from .engine import cache_options, is_url, materialize
from .errors import ChecksumsNotVerifiedWarning, ShardError

__all__ = ["ImageSpec", "ShardSet"]


def _open_for_reading(path: str):
    """``path`` opened for reading, close-on-exec and without blocking (a FIFO in place of a file
    never blocks: the caller's ``fstat`` then refuses it). Raises ``OSError``."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)), "rb")


@dataclass(frozen=True)
class ImageSpec:
    """What every image of a set is (the manifest's ``spec``): ``width`` × ``height`` pixels of
    ``channels`` samples, made from its file with ``resize``; a model's float32 input is each uint8
    sample times ``rescale`` (a float32 value, here as a Python float)."""

    width: int
    height: int
    channels: int
    resize: str
    rescale: float


def _xxh64() -> Optional[Callable[[object], int]]:
    """``xxhash.xxh64_intdigest``, or None when the module cannot be imported."""
    try:
        from xxhash import xxh64_intdigest
    except ImportError:
        return None
    return xxh64_intdigest


class ShardSet:
    """A complete shard set opened for reading.

    ``ShardSet(path)`` takes the set's folder or its ``manifest.json``. Opening reads the manifest
    (version 2) and the 128-byte header of every shard, and checks each header (magic, format
    version, its own XXH64 when ``xxhash`` is present, sample count, record layout, digest, file
    size) against the manifest; it raises :class:`ShardError` naming the file otherwise. Image data
    is only touched through read-only ``numpy.memmap`` views, opened on first access in each process.

    Sample ``i`` of ``len(set)`` is ``set[i] -> (image, label)``: a fresh, writable uint8 array of
    shape (height, width, channels) (a copy, so it never pins the mapping) and the int label, whose
    class name is ``set.class_names[label]``. Negative indices count from the end. When the
    ``xxhash`` module is present and ``verify_records`` is true (the default), every record read is
    checked against its stored XXH64 first, as dataprep's batch reader does
    (:attr:`checksums_verified`); a damaged record raises :class:`ShardError` ``checksumMismatch``.

    A set with ``copies`` augmented copies per image stores them together: sample
    ``image * copies + copy`` is copy ``copy`` of image ``image``; dataprep's trainer reads copy
    ``epoch % copies`` in epoch ``epoch``.

    Pickling keeps the path and the checked manifest, never the mappings: an unpickled set (in a
    ``DataLoader`` worker, for example) maps the shards itself on first access.

    ``path`` may be a URL (``https://host/path/set``, ``http://...``, ``s3://bucket/prefix``): the
    engine library (``make python``) then fetches every shard into its shard cache (``cache``,
    default ``$DATAPREP_HOME/cache``; ``cache_limit`` bytes, which must hold the whole set;
    ``cacert`` a PEM file), verifying each one, and the set maps the cached files, all of them at
    once (a cache shared with other processes may evict a file later; a mapping outlives it).
    """

    def __init__(
        self, path: str, verify_records: bool = True, cache: Optional[str] = None, cache_limit: Optional[int] = None,
        cacert: Optional[str] = None,
    ):
        path = os.fspath(path)
        self._url = path.rstrip("/") if is_url(path) else None
        self._cache_options = cache_options(cache, cache_limit, cacert)
        self.directory = self._url or (os.path.dirname(path) if os.path.basename(path) == "manifest.json" else path)
        self.verify_records = verify_records
        self._materialized = self._materialize() if self._url else None
        self.manifest = self._read_manifest()
        layout = self.manifest["layout"]
        self._stride = layout["stride"]
        self._shape = (layout["height"], layout["width"], layout["channels"])
        self._image_bytes = layout["height"] * layout["width"] * layout["channels"]
        self._label_offset = layout["labelOffset"]
        self._source_offset = layout.get("sourceOffset")
        self._parameters_offset = layout.get("parametersOffset")
        self._parameter_count = layout["parameterCount"]
        self._files = (
            list(self._materialized["files"])
            if self._materialized
            else [os.path.join(self.directory, shard["file"]) for shard in self.manifest["shards"]]
        )
        self._counts = [shard["count"] for shard in self.manifest["shards"]]
        self._starts = [0]
        for count in self._counts:
            self._starts.append(self._starts[-1] + count)
        if self._starts[-1] != self.manifest["count"]:
            raise ShardError(
                "manifestMismatch",
                f"shards hold {self._starts[-1]} samples, the manifest says {self.manifest['count']}",
                self._manifest_path,
            )
        self._attach()
        if self._hash is None:
            warnings.warn(f"{self.directory}: {NO_XXHASH}", ChecksumsNotVerifiedWarning, stacklevel=2)
        for k in range(len(self._files)):
            self._check_header(k)

    # MARK: Opening

    @property
    def _manifest_path(self) -> str:
        return self._url + "/manifest.json" if self._url else os.path.join(self.directory, "manifest.json")

    def _materialize(self) -> dict:
        """The set at the URL, fetched into the engine's cache: its manifest and cached files."""
        return materialize({"path": self._url, **self._cache_options})

    def _read_manifest(self) -> dict:
        """The manifest, read once and validated with the rules and codes of dataprep's Swift reader
        (``ShardManifest.validate``, docs/shard-format.md "Validation"). A set at a URL comes with
        the manifest the engine fetched and validated with that reader itself (what
        ``dp_set_materialize`` returns is the decoded, checked manifest): it is not checked twice."""
        path = self._manifest_path
        if self._materialized:
            return self._materialized["manifest"]
        try:
            file = _open_for_reading(path)
        except (FileNotFoundError, NotADirectoryError):
            raise ShardError(
                "manifestMismatch",
                "not a shard set: no manifest.json (an interrupted write leaves none)",
                path,
            ) from None
        except OSError as error:
            raise ShardError("manifestMismatch", f"cannot read the manifest: {error.strerror}", path) from None
        with file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise ShardError("manifestMismatch", "cannot read the manifest: not a regular file", path)
            if status.st_size > MANIFEST_MAX_BYTES:
                raise ShardError(
                    "manifestMismatch", f"cannot read the manifest: {status.st_size} bytes is over the limit", path
                )
            data = file.read()
        try:
            manifest = json.loads(data, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ShardError("manifestMismatch", f"unreadable manifest: {error}", path) from None
        if isinstance(manifest, dict) and manifest.get("format") == "dataprep-shards":
            version = manifest.get("formatVersion")
            if _is_int(version) and version != MANIFEST_VERSION:
                raise ShardError(
                    "unsupportedVersion",
                    f"manifest version {version}; this reader reads version {MANIFEST_VERSION}",
                    path,
                )
        validate_manifest(manifest, path)
        return manifest

    def _check_header(self, k: int) -> None:
        """Checks shard ``k``'s header and size against the manifest."""
        path, shard = self._files[k], self.manifest["shards"][k]
        try:
            file = _open_for_reading(path)
        except FileNotFoundError:
            raise ShardError("missingShard", "the manifest lists it but it is not there", path) from None
        except OSError as error:
            raise ShardError("fileSystem", f"cannot open: {error.strerror}", path) from None
        with file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise ShardError("fileSystem", "not a regular file (a shard is a file)", path)
            header = file.read(HEADER_SIZE)
            size = status.st_size
        if len(header) < HEADER_SIZE:
            raise ShardError("truncated", f"{len(header)} bytes, shorter than the {HEADER_SIZE}-byte header", path)
        if header[:8] != MAGIC:
            raise ShardError("badMagic", "not a dataprep shard (no DPSHARD magic)", path)
        fields = np.frombuffer(header, dtype=np.dtype("<u4"), count=14, offset=8)
        version = int(fields[0])
        if version != FORMAT_VERSION:
            raise ShardError(
                "unsupportedVersion", f"format version {version}; this reader reads version {FORMAT_VERSION}", path
            )
        if self._hash is not None and self._hash(header[:120]) != int.from_bytes(header[120:128], "little"):
            raise ShardError("badHeader", "header checksum mismatch: the header is damaged", path)
        (count, data_offset, table_offset, digest) = (
            int.from_bytes(header[offset : offset + 8], "little") for offset in (16, 56, 64, 72)
        )
        height, width, channels, stride, label, source, parameters, parameter_count = (int(v) for v in fields[4:12])
        # The header's own consistency first (badHeader), as dataprep's ShardHeader decodes it.
        if not (
            1 <= height <= MAXIMUM_SIDE
            and 1 <= width <= MAXIMUM_SIDE
            and height * width <= MAXIMUM_PIXELS
            and channels in (1, 3)
            and parameter_count <= MAXIMUM_PARAMETERS
        ):
            raise ShardError("badHeader", "the header's image shape or parameter count is out of range", path)
        implied = record_layout(height, width, channels, source != ABSENT, parameter_count)
        if count > (2**63 - 1 - HEADER_SIZE) // (implied["stride"] + 8):
            raise ShardError("badHeader", f"the header's sample count {count} is out of range", path)
        if (
            (stride, label) != (implied["stride"], implied["labelOffset"])
            or (None if source == ABSENT else source) != implied["sourceOffset"]
            or (None if parameters == ABSENT else parameters) != implied["parametersOffset"]
            or data_offset != HEADER_SIZE
            or table_offset != HEADER_SIZE + count * stride
        ):
            raise ShardError("badHeader", "record layout fields are inconsistent", path)
        expected_layout = (
            *self._shape,
            self._stride,
            self._label_offset,
            ABSENT if self._source_offset is None else self._source_offset,
            ABSENT if self._parameters_offset is None else self._parameters_offset,
            self._parameter_count,
        )
        if (
            count != shard["count"]
            or (height, width, channels, stride, label, source, parameters, parameter_count) != expected_layout
            or f"{digest:016x}" != shard["digest"]
        ):
            raise ShardError(
                "manifestMismatch",
                f"the shard holds {count} samples with digest {digest:016x} but the manifest says "
                f"{shard['count']} and {shard['digest']} (or the layouts differ)",
                path,
            )
        if size < table_offset + 8 * count:
            raise ShardError("truncated", f"{size} bytes; the header needs {table_offset + 8 * count}", path)
        if size != shard["bytes"]:
            raise ShardError(
                "manifestMismatch",
                f"{size} bytes, more than the {shard['bytes']} its header and the manifest say: bytes were added",
                path,
            )

    # MARK: Per-process state

    def _attach(self) -> None:
        """Resolves xxhash and forgets any mapping (they are opened lazily, per process)."""
        self._hash = _xxh64()
        self._maps: List[Optional[np.memmap]] = [None] * len(self._files)
        self._pid = os.getpid()
        if self._url and hasattr(self, "_starts"):  # cached files (fetched again if evicted), mapped at once
            materialized = getattr(self, "_materialized", None) or self._materialize()
            self._materialized = None
            self._files = list(materialized["files"])
            for k in range(len(self._files)):
                self._mapping(k)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ("_hash", "_maps", "_pid", "_materialized"):
            del state[key]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._attach()

    def _mapping(self, k: int) -> np.memmap:
        """Shard ``k`` as a read-only uint8 memmap, opened on first use in this process."""
        if self._pid != os.getpid():  # a forked child does not reuse its parent's mappings
            self._attach()
        mapping = self._maps[k]
        if mapping is None:
            mapping = np.memmap(self._files[k], dtype=np.uint8, mode="r")
            self._maps[k] = mapping
        return mapping

    # MARK: Access

    @property
    def spec(self) -> ImageSpec:
        """The image spec the set was made with (size, channels, resize, rescale)."""
        spec = self.manifest["spec"]
        return ImageSpec(
            spec["width"], spec["height"], spec["channels"], spec["resize"], float(np.float32(spec["rescale"]))
        )

    @property
    def class_names(self) -> List[str]:
        """Class names in label order: label ``i`` is ``class_names[i]``."""
        return list(self.manifest["classNames"])

    @property
    def copies(self) -> int:
        """Augmented copies per image (1 when the set is not augmented)."""
        return self.manifest["copies"]

    @property
    def images_per_copy(self) -> int:
        """Samples per copy: ``len(set) == copies * images_per_copy``."""
        return self.manifest["imagesPerCopy"]

    @property
    def parameter_names(self) -> List[str]:
        """Names of the float32 parameters each record holds (empty when none)."""
        return list(self.manifest.get("parameterNames", []))

    @property
    def checksums_verified(self) -> bool:
        """Whether each record read is checked against its XXH64: ``xxhash`` is importable in this
        process and ``verify_records`` is true."""
        return self.verify_records and self._hash is not None

    def __len__(self) -> int:
        return self.manifest["count"]

    def _record(self, index: int) -> Tuple[np.ndarray, int, int]:
        """The whole record ``index`` (a read-only view), its shard and its index there."""
        index = operator.index(index)
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"sample {index} is outside 0..<{count}")
        k = bisect.bisect_right(self._starts, index) - 1
        local = index - self._starts[k]
        start = HEADER_SIZE + local * self._stride
        record = self._mapping(k)[start : start + self._stride]
        if self.checksums_verified and self._hash(record) != self._checksum(k, local):
            raise ShardError("checksumMismatch", "record bytes do not match their checksum", self._files[k], local)
        return record, k, local

    def _checksum(self, k: int, local: int) -> int:
        """The stored XXH64 of record ``local`` of shard ``k``."""
        at = HEADER_SIZE + self._counts[k] * self._stride + 8 * local
        return int(self._mapping(k)[at : at + 8].view("<u8")[0])

    def __getitem__(self, index: int) -> Tuple[np.ndarray, int]:
        record, _, _ = self._record(index)
        image = np.array(record[: self._image_bytes]).reshape(self._shape)
        label = self._checked_label(record, index)
        return image, label

    def _checked_label(self, record: np.ndarray, index: int) -> int:
        """The label of ``record`` (sample ``index``), refused with ``manifestMismatch`` when it is
        not one of the manifest's classes, as dataprep's readers refuse it."""
        label = int(record[self._label_offset : self._label_offset + 4].view("<i4")[0])
        if not 0 <= label < len(self.manifest["classNames"]):
            index = index + len(self) if index < 0 else index
            k = bisect.bisect_right(self._starts, index) - 1
            raise ShardError(
                "manifestMismatch",
                f"the record's label {label} is not one of the manifest's {len(self.manifest['classNames'])} classes",
                self._files[k],
                index - self._starts[k],
            )
        return label

    def label(self, index: int) -> int:
        """The label of sample ``index``."""
        return self[index][1]

    def source_id(self, index: int) -> Optional[int]:
        """The source id of sample ``index`` (an index into the manifest's ``sources``), or None
        when the set's records carry none."""
        if self._source_offset is None:
            return None
        record, _, _ = self._record(index)
        return int(record[self._source_offset : self._source_offset + 4].view("<u4")[0])

    def source(self, index: int) -> Optional[str]:
        """The file sample ``index`` was made from, relative to the source dataset, or None when the
        set's records carry no source id."""
        source = self.source_id(index)
        return None if source is None else self.manifest["sources"][source]

    def parameters(self, index: int) -> np.ndarray:
        """The float32 parameters of sample ``index`` (named by :attr:`parameter_names`; empty when
        records carry none), as a fresh array."""
        if self._parameters_offset is None:
            return np.zeros(0, dtype=np.float32)
        record, _, _ = self._record(index)
        end = self._parameters_offset + 4 * self._parameter_count
        return record[self._parameters_offset : end].view("<f4").astype(np.float32)

    def float_image(self, index: int, layout: str = "nhwc") -> np.ndarray:
        """Sample ``index``'s image as the model input dataprep's batch reader gives: each uint8
        sample times the spec's rescale in float32 (``np.float32(v) * np.float32(rescale)``), shaped
        (height, width, channels) for ``layout="nhwc"`` or (channels, height, width) for ``"nchw"``."""
        return self.float_sample(index, layout)[0]

    def float_sample(self, index: int, layout: str = "nhwc") -> Tuple[np.ndarray, int]:
        """``(float_image(index, layout), label)``, reading the record once."""
        if layout not in ("nhwc", "nchw"):
            raise ValueError(f'layout must be "nhwc" or "nchw", got {layout!r}')
        image, label = self[index]
        values = image.astype(np.float32) * np.float32(self.manifest["spec"]["rescale"])
        return (values if layout == "nhwc" else np.ascontiguousarray(values.transpose(2, 0, 1))), label

    def verify(self) -> None:
        """Checks every shard's digest (XXH64 of its checksum table, against the manifest) and every
        record's XXH64, like ``dataprep verify``.

        Raises :class:`ShardError` ``badHeader`` for a damaged checksum table,
        ``checksumMismatch`` naming the shard file and the sample within it for the first damaged
        record, and ``manifestMismatch`` for a label outside the class list; raises :class:`RuntimeError` saying checksums are not verified when the ``xxhash``
        module is missing."""
        if self._pid != os.getpid():
            self._attach()
        if self._hash is None:
            raise RuntimeError(f"{self.directory}: cannot verify: {NO_XXHASH}")
        for k, shard in enumerate(self.manifest["shards"]):
            mapping = self._mapping(k)
            count = self._counts[k]
            table_start = HEADER_SIZE + count * self._stride
            table = mapping[table_start : table_start + 8 * count]
            if f"{self._hash(table):016x}" != shard["digest"]:
                raise ShardError("badHeader", "the checksum table does not match the shard digest", self._files[k])
            checksums = table.view("<u8")
            for local in range(count):
                start = HEADER_SIZE + local * self._stride
                record = mapping[start : start + self._stride]
                if self._hash(record) != int(checksums[local]):
                    raise ShardError(
                        "checksumMismatch", "record bytes do not match their checksum", self._files[k], local
                    )
                self._checked_label(record, self._starts[k] + local)
