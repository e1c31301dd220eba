"""The shard format's constants, as docs/shard-format.md describes them (the one description of the
format; `Sources/Shards/ShardFormat.swift` writes it)."""

MAGIC = b"DPSHARD\0"
FORMAT_VERSION = 1
HEADER_SIZE = 128
ABSENT = 0xFFFFFFFF
MANIFEST_VERSION = 2
#: The largest manifest.json read, in bytes (as dataprep's ``ShardManifest.maximumBytes``).
MANIFEST_MAX_BYTES = 1 << 30
NO_XXHASH = (
    "the xxhash module is not installed, so record checksums are not verified "
    "(pip install xxhash, or apt-get install python3-xxhash)"
)


