"""Keras's ``ImageDataGenerator`` arguments, as the engine takes them: a Keras user passes the
generator's keyword arguments to :class:`~dataprep_shards.Loader` ``augment=`` unchanged.

The meanings are Keras's (see the repository's README, "From ImageDataGenerator to dataprep"): the
types decide the form of a shift range as Keras's ``np.random.choice`` does (an int is whole pixels, a
float a uniform range, a list a set of choices), a scalar ``zoom_range`` ``z`` is ``[1 - z, 1 + z]``.
The ranges are checked by the engine, which names the argument in its error.
"""

from __future__ import annotations

import numbers
from typing import Any, Dict, Mapping

import numpy as np

from .errors import ArgumentError

__all__ = ["SUPPORTED", "UNSUPPORTED", "engine_options"]

#: The ImageDataGenerator arguments the engine applies.
SUPPORTED = (
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "shear_range",
    "zoom_range",
    "horizontal_flip",
    "vertical_flip",
    "brightness_range",
    "channel_shift_range",
    "fill_mode",
    "cval",
    "interpolation_order",
    "rescale",
)

#: The ImageDataGenerator arguments the engine does not apply: their Keras default (accepted, since it
#: does nothing) and what to do instead of any other value.
UNSUPPORTED = {
    "featurewise_center": (
        False,
        "it needs statistics of the whole set (ImageDataGenerator.fit); normalise in the model instead "
        "(keras.layers.Normalization adapted on a few batches)",
    ),
    "featurewise_std_normalization": (
        False,
        "it needs statistics of the whole set (ImageDataGenerator.fit); normalise in the model instead "
        "(keras.layers.Normalization)",
    ),
    "zca_whitening": (False, "it needs statistics of the whole set (ImageDataGenerator.fit) and is not implemented"),
    "zca_epsilon": (1e-6, "it only matters with zca_whitening, which is not implemented"),
    "samplewise_center": (
        False,
        "per-image standardisation is not part of the engine; apply it to the batch "
        "(images - images.mean(axis=(1, 2, 3), keepdims=True))",
    ),
    "samplewise_std_normalization": (
        False,
        "per-image standardisation is not part of the engine; apply it to the batch",
    ),
    "preprocessing_function": (
        None,
        "it runs Python for every image, which the engine exists to avoid; apply it to the batch instead",
    ),
    "validation_split": (
        0.0,
        "split the folder with `dataprep split` (or pack its validation folder) and open that set with a Loader of "
        "its own (shuffle=False, no augment)",
    ),
    "data_format": (None, 'use the Loader\'s layout= ("nhwc" is channels_last, "nchw" channels_first)'),
    "dtype": (None, 'use the Loader\'s dtype= ("float32" or "uint8")'),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_))


def _is_integer(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_default(value: Any, default: Any) -> bool:
    """Whether an unsupported argument holds Keras's default, which does nothing."""
    if default is None:
        return value is None
    return isinstance(value, (bool, numbers.Real, np.number, np.bool_)) and bool(value == default)


def _number(name: str, value: Any) -> float:
    if not _is_number(value):
        raise ArgumentError(name, f"must be a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ArgumentError(name, f"must be finite, got {value!r}")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(name, f"must be True or False, got {value!r}")
    return bool(value)


def _pair(name: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError(name, f"must be two numbers (low, high), got {value!r}")
    return [_number(name, v) for v in value]


def _shift(name: str, value: Any) -> dict:
    """Keras's three forms: an int is whole pixels (``np.random.choice(n)``), a float a uniform
    range, a list (tuple, array) a set of values."""
    if _is_integer(value):
        return {"pixels": int(value)} if value >= 0 else {"uniform": _number(name, value)}
    if _is_number(value):
        return {"uniform": _number(name, value)}
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [_number(name, v) for v in np.asarray(value, dtype=object).ravel()]
        if not values:
            raise ArgumentError(name, "an empty list of shifts")
        return {"choices": values}
    raise ArgumentError(name, f"must be an int, a float or a list of numbers, got {value!r}")


def engine_options(augment: Mapping[str, Any]) -> Dict[str, Any]:
    """The engine's ``augment`` object for ImageDataGenerator keyword arguments.

    Raises :class:`ArgumentError` naming an argument that is unknown, unsupported (saying what to do
    instead) or of the wrong type."""
    if not isinstance(augment, Mapping):
        raise ArgumentError("augment", f"must be a dict of ImageDataGenerator arguments, got {type(augment).__name__}")
    options: Dict[str, Any] = {}
    for name, value in augment.items():
        if name in UNSUPPORTED:
            default, instead = UNSUPPORTED[name]
            if _is_default(value, default):
                continue  # Keras's default: it does nothing
            raise ArgumentError(name, f"is not supported: {instead}")
        if name not in SUPPORTED:
            raise ArgumentError(name, "is not an ImageDataGenerator argument the engine knows")
        if value is None and name in ("brightness_range", "rescale"):
            continue
        if name in ("rotation_range", "shear_range", "channel_shift_range", "cval", "rescale"):
            options[name] = _number(name, value)
        elif name in ("width_shift_range", "height_shift_range"):
            options[name] = _shift(name, value)
        elif name == "zoom_range":
            if _is_number(value):
                z = _number(name, value)
                options[name] = [1 - z, 1 + z]
            else:
                options[name] = _pair(name, value)
        elif name == "brightness_range":
            options[name] = _pair(name, value)
        elif name in ("horizontal_flip", "vertical_flip"):
            options[name] = _flag(name, value)
        elif name == "fill_mode":
            if not isinstance(value, str):
                raise ArgumentError(name, f"must be a string, got {value!r}")
            options[name] = value
        elif name == "interpolation_order":
            if not _is_integer(value):
                raise ArgumentError(name, f"must be 0 (nearest) or 1 (bilinear), got {value!r}")
            options[name] = int(value)
    return options
