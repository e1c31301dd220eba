"""dataprep shard sets in Python: read them with numpy, or train from the engine's batches.

A set is a folder holding ``manifest.json`` and ``.dps`` shards, written by ``dataprep pack`` and
``dataprep augment`` (the format: docs/shard-format.md in the repository).

- :class:`Loader` (``dataprep_shards.loader``): batches rendered by dataprep's engine, the reader
  ``dataprep train`` feeds its model from: shuffled, freshly augmented with ``ImageDataGenerator``'s
  arguments, deterministic, prefetched by native threads, as numpy arrays. Needs the engine library
  (``make python`` builds and installs it). Adapters: ``dataprep_shards.torch`` (PyTorch) and
  ``dataprep_shards.keras`` (``keras.utils.PyDataset``); JAX takes the numpy arrays.
- :class:`ShardSet` (``dataprep_shards.reader``): the stored samples one by one, pure numpy: it checks
  the manifest and every shard header when opened and memory-maps the shards on first access in
  each process, so it pickles cleanly to other processes. Record checksums (XXH64) are checked when
  the ``xxhash`` module is importable; without it a :class:`ChecksumsNotVerifiedWarning` says so.
"""

from .errors import ArgumentError, ChecksumsNotVerifiedWarning, EngineError, ShardError
from .loader import Loader
from .reader import ImageSpec, ShardSet

__all__ = [
    "ArgumentError",
    "ChecksumsNotVerifiedWarning",
    "EngineError",
    "ImageSpec",
    "Loader",
    "ShardError",
    "ShardSet",
]
