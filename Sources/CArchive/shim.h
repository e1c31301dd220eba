/* libarchive 3.6 for Swift: plain C functions, no forwards needed. */
#include <archive.h>
#include <archive_entry.h>
