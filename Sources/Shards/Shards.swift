/// Shards: the documented binary shard format (fixed-size uint8 samples, checksums, manifest), the
/// atomic rotating writer, the prefetching Dispatch reader the trainer consumes, and verification
/// (issue 4).
