/* oneDNN 2.6 C API for Swift. */
#include <oneapi/dnnl/dnnl.h>
