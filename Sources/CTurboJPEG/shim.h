/* TurboJPEG (libjpeg-turbo 2.1) for Swift: the classic tj* API imports as is. */
#include <turbojpeg.h>
