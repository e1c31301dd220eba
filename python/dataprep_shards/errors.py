"""The exceptions of dataprep_shards: a set that cannot be read, and an option that is wrong."""

from __future__ import annotations

from typing import Optional

__all__ = ["ArgumentError", "ChecksumsNotVerifiedWarning", "EngineError", "ShardError"]


class ShardError(ValueError):
    """A shard set that cannot be read as it is: missing, damaged or inconsistent.

    ``code`` is the name the Swift reader uses for the same failure (``manifestMismatch``,
    ``missingShard``, ``truncated``, ``badMagic``, ``unsupportedVersion``, ``badHeader``,
    ``checksumMismatch``), ``file`` the file concerned and ``sample`` the sample index within that
    shard when one record is at fault. ``str()`` reads like dataprep's own errors:
    ``checksumMismatch: FILE, sample 4: record bytes do not match their checksum``.
    """

    def __init__(self, code: str, message: str, file: str, sample: Optional[int] = None):
        self.code = code
        self.file = file
        self.sample = sample
        place = file if sample is None else f"{file}, sample {sample}"
        super().__init__(f"{code}: {place}: {message}" if place else f"{code}: {message}")


class ChecksumsNotVerifiedWarning(UserWarning):
    """Warned when a set is opened without the ``xxhash`` module: no checksum is checked."""


class ArgumentError(ValueError):
    """An argument of :class:`~dataprep_shards.Loader` (or of its ``augment`` options) that is missing,
    of the wrong type or out of range. ``argument`` names it as the call spelled it
    (``"batch_size"``, ``"rotation_range"``); ``code`` is the engine's ``invalidArgument``.
    ``str()`` starts with the argument's name."""

    code = "invalidArgument"

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(f"{argument}: {message}" if argument else message)


class EngineError(RuntimeError):
    """The batch engine cannot do what was asked: its library is missing or of another version
    (``code`` ``"engineNotFound"``, ``"engineVersion"``), a :class:`~dataprep_shards.Loader` is used
    after :meth:`~dataprep_shards.Loader.close` or in another process than the one that opened it
    (``"misuse"``), or the engine failed in a way that is not the set's fault. ``code`` is the
    engine's error code."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")
