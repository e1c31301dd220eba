"""The ctypes binding of libDataPrepEngine, dataprep's batch engine (its C interface is
``Sources/CDataPrepEngine/include/dataprep_engine.h``; docs/python-engine.md explains the design).

ctypes releases the GIL for the length of every call into the library, so the engine's work (and a
wait for the next batch) never holds up other Python threads.
"""

from __future__ import annotations

import ctypes
import json
import operator
import os
import threading
from typing import Any, Dict, Optional

from .errors import ArgumentError, EngineError, ShardError

__all__ = ["ENGINE_ENVIRONMENT", "cache_options", "is_url", "library", "library_path", "materialize"]

#: The environment variable that names the library file, ahead of the copy installed in the package.
ENGINE_ENVIRONMENT = "DATAPREP_ENGINE"
_LIBRARY_NAME = "libDataPrepEngine.so"
_ABI_VERSION = 2
#: The engine's codes for a set that cannot be read (raised as ShardError), locally or from a URL.
_SET_CODES = frozenset(
    ("badMagic", "unsupportedVersion", "badHeader", "truncated", "checksumMismatch", "missingShard", "manifestMismatch",
     "fileSystem", "httpStatus", "transferFailed", "setChanged", "credentials")
)


class Error(ctypes.Structure):
    """``dp_error``."""

    _fields_ = [
        ("failed", ctypes.c_int32),
        ("sample", ctypes.c_int64),
        ("code", ctypes.c_char * 48),
        ("argument", ctypes.c_char * 64),
        ("file", ctypes.c_char * 1024),
        ("message", ctypes.c_char * 2048),
    ]

    def exception(self) -> Exception:
        """The Python exception for this error: :class:`ArgumentError` for ``invalidArgument``,
        :class:`ShardError` for a set that cannot be read, :class:`EngineError` otherwise."""
        code, message = self.code.decode(), self.message.decode(errors="replace")
        if code == "invalidArgument":
            return ArgumentError(self.argument.decode(), message)
        if code == "invalidLocation":
            return ArgumentError("path", message)
        if code in _SET_CODES:
            return ShardError(code, message, self.file.decode(errors="replace"), None if self.sample < 0 else self.sample)
        return EngineError(code, message)


class Batch(ctypes.Structure):
    """``dp_batch``."""

    _fields_ = [("index", ctypes.c_int64), ("count", ctypes.c_int64), ("slot", ctypes.c_int64)]


_loaded: Optional[ctypes.CDLL] = None
_loading = threading.Lock()


def library_path() -> str:
    """Where the library is: ``$DATAPREP_ENGINE`` when set, else the copy ``make python`` puts in
    this package."""
    return os.environ.get(ENGINE_ENVIRONMENT) or os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIBRARY_NAME)


def library() -> ctypes.CDLL:
    """The engine library, loaded once per process with its functions' signatures declared.

    Raises :class:`EngineError` ``engineNotFound`` when it cannot be loaded (saying how to build it)
    and ``engineVersion`` when it implements another version of the interface."""
    global _loaded
    with _loading:
        if _loaded is not None:
            return _loaded
        path = library_path()
        try:
            lib = ctypes.CDLL(path)
        except OSError as error:
            raise EngineError(
                "engineNotFound",
                f"cannot load the batch engine {path} ({error}): build it with `make python` in the dataprep "
                f"repository (it installs this package with the engine), or set {ENGINE_ENVIRONMENT} to "
                "the path of libDataPrepEngine.so",
            ) from None
        lib.dp_engine_abi_version.restype = ctypes.c_int32
        lib.dp_engine_abi_version.argtypes = []
        version = lib.dp_engine_abi_version()
        if version != _ABI_VERSION:
            raise EngineError(
                "engineVersion", f"{path} implements interface version {version}; this package needs {_ABI_VERSION}"
            )
        error = ctypes.POINTER(Error)
        handle = ctypes.c_void_p
        lib.dp_loader_open.restype = handle
        lib.dp_loader_open.argtypes = [ctypes.c_char_p, error]
        lib.dp_loader_describe.restype = ctypes.c_int64
        lib.dp_loader_describe.argtypes = [handle, ctypes.c_char_p, ctypes.c_int64]
        lib.dp_loader_attach.restype = ctypes.c_int32
        lib.dp_loader_attach.argtypes = [
            handle, ctypes.c_int64, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)), error
        ]
        lib.dp_loader_start.restype = ctypes.c_int32
        lib.dp_loader_start.argtypes = [handle, ctypes.c_int64, ctypes.c_int64, error]
        lib.dp_loader_next.restype = ctypes.c_int32
        lib.dp_loader_next.argtypes = [handle, ctypes.POINTER(Batch), error]
        lib.dp_loader_order.restype = ctypes.c_int32
        lib.dp_loader_order.argtypes = [handle, ctypes.c_int64, ctypes.POINTER(ctypes.c_int64), ctypes.c_int64, error]
        lib.dp_loader_close.restype = None
        lib.dp_loader_close.argtypes = [handle]
        lib.dp_set_materialize.restype = ctypes.c_int64
        lib.dp_set_materialize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int64, error]
        _loaded = lib
        return lib


def is_url(path: str) -> bool:
    """Whether ``path`` names a set on a server or in a bucket (``https://``, ``http://``, ``s3://``)."""
    return path.lower().startswith(("http://", "https://", "s3://"))


def cache_options(cache: Any, cache_limit: Any, cacert: Any) -> Dict[str, Any]:
    """The engine's options for a set read from a URL: the cache folder, its limit in bytes
    (1...2**50), the CA file; None leaves one out. Raises :class:`ArgumentError` naming a wrong one
    (a NaN would otherwise reach the engine as JSON it cannot read)."""
    options: Dict[str, Any] = {}
    if cache is not None:
        if not isinstance(cache, (str, os.PathLike)):
            raise ArgumentError("cache", f"must be a folder path, got {cache!r}")
        options["cache"] = os.fspath(cache)
    if cache_limit is not None:
        try:
            if isinstance(cache_limit, bool):
                raise TypeError
            limit = operator.index(cache_limit)
        except TypeError:
            raise ArgumentError("cache_limit", f"must be an integer, got {cache_limit!r}") from None
        if not 1 <= limit <= 1 << 50:
            raise ArgumentError("cache_limit", f"must be in 1...{1 << 50}, got {limit}")
        options["cache_limit"] = limit
    if cacert is not None:
        if not isinstance(cacert, (str, os.PathLike)):
            raise ArgumentError("cacert", f"must be a file path, got {cacert!r}")
        options["cacert"] = os.fspath(cacert)
    return options


def materialize(options: dict) -> dict:
    """Fetches every shard of the set ``options["path"]`` names into the engine's shard cache (a shard
    already there is verified, not fetched again) and returns ``{"manifest": ..., "files": [...]}``:
    the manifest, and the cached file of each shard in manifest order. ``options`` may also hold
    ``cache``, ``cache_limit`` and ``cacert``.

    Raises :class:`ShardError` (``httpStatus``, ``transferFailed``, ``setChanged``, ...) naming the URL,
    or :class:`ArgumentError` for a malformed URL or option."""
    lib = library()
    error = Error()
    request = json.dumps(options).encode()
    capacity = 1 << 20
    while True:
        buffer = ctypes.create_string_buffer(capacity)
        length = lib.dp_set_materialize(request, buffer, capacity, ctypes.byref(error))
        if length < 0:
            raise error.exception()
        if length < capacity:
            return json.loads(buffer.value.decode())
        capacity = int(length) + 1  # the second call finds every shard cached
