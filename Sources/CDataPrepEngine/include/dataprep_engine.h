/* dataprep_engine.h: the C interface of libDataPrepEngine, dataprep's batch engine (the shard
 * reader with fresh per-epoch augmentation that `dataprep train` feeds its model from), for other
 * languages: the Python package `dataprep_shards` loads it with ctypes.
 *
 * Conventions
 * - Handles are opaque; nothing of Swift crosses this interface. Strings are UTF-8, NUL-terminated.
 * - Every call that can fail takes a `dp_error *` (may be NULL) and fills it on failure; on success
 *   it sets `error->failed` to 0. Codes are the engine's error codes (`ShardError.Code` and
 *   `invalidArgument` for options, whose `argument` names the option as the configuration does).
 * - A loader may be used by one thread at a time; a call blocks the calling thread only (the
 *   engine's own worker threads render batches ahead). Use a loader in the process that opened it:
 *   after fork(), the child must open its own.
 * - Memory: the caller owns the ring of batch buffers (dp_loader_attach) and keeps it alive until
 *   dp_loader_close returns; batch k of an epoch is rendered into slot k mod prefetch, and is valid
 *   until the next dp_loader_next or dp_loader_start call.
 */
#ifndef DATAPREP_ENGINE_H
#define DATAPREP_ENGINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this interface; dp_engine_abi_version() returns the library's. */
#define DP_ENGINE_ABI_VERSION 2

/** A loader: one shard set, its options, and the epoch being read. */
typedef struct dp_loader dp_loader;

/** Why a call failed. */
typedef struct dp_error {
    /** 0: the call succeeded; 1: it failed and the fields below say why. */
    int32_t failed;
    /** The sample within `file` at fault, or -1. */
    int64_t sample;
    /** The engine's error code, e.g. "checksumMismatch", "missingShard", "invalidArgument". */
    char code[48];
    /** For "invalidArgument": the option at fault, as the configuration names it ("batch_size",
     *  "rotation_range"), else "". */
    char argument[64];
    /** The file concerned (a shard, a manifest), else "". */
    char file[1024];
    /** What is wrong, in a sentence. */
    char message[2048];
} dp_error;

/** Where dp_loader_next put a batch. */
typedef struct dp_batch {
    /** The batch's number within the epoch (0-based). */
    int64_t index;
    /** Samples in it (the batch size, or fewer for the last batch of an epoch). */
    int64_t count;
    /** The ring slot holding it: index mod prefetch. */
    int64_t slot;
} dp_batch;

/** The interface version the library implements (DP_ENGINE_ABI_VERSION when it matches). */
int32_t dp_engine_abi_version(void);

/** Opens a loader from a JSON object of options (see docs/python-engine.md): "path", "batch_size",
 *  "shuffle", "seed", "size" ({"width", "height"} or null), "augment" (ImageDataGenerator's
 *  argument names, typed: see the document), "keras_compat", "layout" ("nchw"|"nhwc"), "dtype"
 *  ("float32"|"uint8"), "drop_last", "rank", "world_size", "threads" (null: all cores),
 *  "prefetch", "verify_records", "shuffle_window" (null: a global shuffle; K: the shard-aware order,
 *  shards shuffled per epoch and samples within each window of K shards). "path" may be a URL
 *  (https://, http://, s3://), read through the shard cache: "cache" (a folder, default
 *  $DATAPREP_HOME/cache), "cache_limit" (bytes), "cacert" (a PEM file). Returns NULL and fills
 *  `error` on failure. */
dp_loader *dp_loader_open(const char *options_json, dp_error *error);

/** Writes a JSON object describing the loader's batches ("height", "width", "channels", "rescale",
 *  "resize", "element_size", "batch_size", "prefetch", "samples_per_epoch", "batches_per_epoch",
 *  "class_names", "set": the set's manifest summary) into `buffer` when `capacity` exceeds its
 *  length, and returns its length in bytes (without the NUL), so a caller can size the buffer. */
int64_t dp_loader_describe(dp_loader *loader, char *buffer, int64_t capacity);

/** Hands the loader the caller's ring: `slots` (= prefetch) image buffers of batch_size × height ×
 *  width × channels × element_size bytes (aligned to 4) and as many label buffers of batch_size
 *  int32. Called once, before the first dp_loader_start. */
int32_t dp_loader_attach(dp_loader *loader, int64_t slots, void *const *images, int32_t *const *labels, dp_error *error);

/** Starts epoch `epoch` (0-based) at batch `first_batch` (0 ... batches_per_epoch), cancelling and
 *  waiting out the epoch in progress. Returns 0, or -1 with `error` filled. */
int32_t dp_loader_start(dp_loader *loader, int64_t epoch, int64_t first_batch, dp_error *error);

/** Waits for the next batch of the started epoch: returns 1 and fills `batch`, 0 after the last
 *  batch, or -1 with `error` filled (a damaged record: "checksumMismatch" naming shard and sample). */
int32_t dp_loader_next(dp_loader *loader, dp_batch *batch, dp_error *error);

/** Writes the global sample indices this loader reads in epoch `epoch`, in order (samples_per_epoch
 *  of them) into `samples` (room for `capacity`). Returns 0, or -1 with `error` filled. */
int32_t dp_loader_order(dp_loader *loader, int64_t epoch, int64_t *samples, int64_t capacity, dp_error *error);

/** Fetches every shard of the set `options_json` names ({"path", "cache", "cache_limit", "cacert"},
 *  as for dp_loader_open) into the shard cache (a shard already cached is verified, not fetched),
 *  and writes the JSON object {"manifest": {...}, "files": [the cached file of each shard, in manifest
 *  order]} into `buffer` when `capacity` exceeds its length (for a local folder, its own files).
 *  Returns the length in bytes (without the NUL), or -1 with `error` filled. */
int64_t dp_set_materialize(const char *options_json, char *buffer, int64_t capacity, dp_error *error);

/** Stops the worker threads (waiting for them) and frees the loader; the ring may be freed after
 *  it returns. NULL is ignored. */
void dp_loader_close(dp_loader *loader);

#ifdef __cplusplus
}
#endif

#endif /* DATAPREP_ENGINE_H */
