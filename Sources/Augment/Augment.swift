/// Augment: Keras-meaning augmentation (rotation, shift, shear, zoom, flips, brightness, channel
/// shift, fill modes) folded with the resize into one affine resample, a counter-based seedable RNG
/// so outputs do not depend on thread count, and preview contact sheets (issue 5).
