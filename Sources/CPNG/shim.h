/* libpng 1.6 for Swift: only the simplified png_image_* API is used (errors come back as values). */
#include <png.h>
