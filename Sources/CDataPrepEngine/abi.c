// The C side of libDataPrepEngine: the interface version, and compile-time checks that the
// structures Python's ctypes mirrors keep their layout (python/dataprep_shards/engine.py).
#include "dataprep_engine.h"

#include <stddef.h>

_Static_assert(offsetof(dp_error, sample) == 8, "dp_error layout");
_Static_assert(offsetof(dp_error, code) == 16, "dp_error layout");
_Static_assert(sizeof(dp_error) == 16 + 48 + 64 + 1024 + 2048, "dp_error layout");
_Static_assert(sizeof(dp_batch) == 24, "dp_batch layout");

int32_t dp_engine_abi_version(void) { return DP_ENGINE_ABI_VERSION; }
