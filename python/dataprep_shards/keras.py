"""A Keras 3 adapter (needs ``keras``): the engine's batches as a ``keras.utils.PyDataset``, so
``model.fit(KerasDataset(...))`` trains from them on any backend (TensorFlow, JAX, PyTorch)."""

from __future__ import annotations

import warnings
from typing import Any, Tuple

import keras
import numpy as np

from .loader import Loader

__all__ = ["KerasDataset"]


class KerasDataset(keras.utils.PyDataset):
    """A ``PyDataset`` of :class:`~dataprep_shards.Loader` batches: ``dataset[i]`` is batch ``i`` of
    the current epoch as ``(images, labels)`` numpy arrays (images ``(n, H, W, C)`` float32 by
    default, ``layout="nhwc"`` being Keras's ``channels_last``; labels int32 class indices, what
    ``sparse_categorical_crossentropy`` and a 2-class ``binary_crossentropy`` take). Each batch is a
    copy Keras may keep while the engine renders the next ones; Keras reading the batches in order
    (as ``fit`` does) is as fast as iterating the loader.

    Pass ``shuffle=False`` to ``fit``: the loader already shuffles the samples every epoch, and
    Keras's own shuffling of a ``PyDataset`` permutes the order of batches, which makes the engine
    restart for every batch (correct, but several times slower; the dataset warns when it sees it).

    Every keyword argument is the :class:`~dataprep_shards.Loader`'s (``augment`` takes
    ``ImageDataGenerator``'s arguments). ``on_epoch_end`` (which ``fit`` calls) moves to the next
    epoch, so every epoch is augmented afresh: epoch ``e`` of ``fit`` is the loader's epoch ``e``.
    The engine prefetches with its own threads, so the dataset tells Keras to use no workers of its
    own.
    """

    def __init__(self, path: str, batch_size: int, *, layout: str = "nhwc", **arguments: Any):
        super().__init__(workers=1, use_multiprocessing=False)
        self.loader = Loader(path, batch_size, layout=layout, **arguments)
        self._epoch = 0
        self._next = 0
        self._warned = False

    def __len__(self) -> int:
        return len(self.loader)

    def __getitem__(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        if index != self._next and index != 0 and not self._warned:
            self._warned = True
            warnings.warn(
                "Keras asks for batches out of order (model.fit shuffles a PyDataset's batches unless shuffle=False): "
                "every batch then restarts the engine; the loader already shuffles samples every epoch, so pass "
                "shuffle=False to fit",
                stacklevel=2,
            )
        self._next = index + 1
        return self.loader.batch(index, epoch=self._epoch)

    def on_epoch_end(self) -> None:
        self._epoch += 1
        self._next = 0

    @property
    def class_names(self) -> list:
        return self.loader.class_names
