"""PyTorch adapters (need ``torch``): the engine's batches as tensors, and a map-style ``Dataset``
over the stored samples.

- :class:`TorchLoader`: a :class:`~dataprep_shards.Loader` whose batches are tensors — the training
  loop's iterable, with DDP (each process passes its rank, or they are read from
  ``torch.distributed``).
- :class:`ShardDataset`: the stored samples one by one (no augmentation), for ``DataLoader``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

import torch
import torch.utils.data

from .loader import Loader
from .reader import ShardSet

__all__ = ["ShardDataset", "TorchLoader"]


class TorchLoader:
    """The batches of a :class:`~dataprep_shards.Loader` as ``(images, labels)`` tensors: images
    float32 ``(n, C, H, W)`` (the default ``layout="nchw"``) made with ``torch.from_numpy`` over
    the loader's ring (no copy: valid until the next batch, like the arrays), labels int64 (what
    ``cross_entropy`` takes; a copy of ``n`` numbers).

    Every keyword argument is the :class:`~dataprep_shards.Loader`'s. When ``rank`` and
    ``world_size`` are not given and ``torch.distributed`` is initialized, they are its rank and
    world size, so under DDP each process reads its own share of every epoch (pass
    ``drop_last=True`` so every rank runs the same number of steps). ``pin_memory=True`` copies each
    batch into page-locked memory (a ring of two) for ``.to("cuda", non_blocking=True)``; without
    a CUDA device it warns and is ignored, as ``DataLoader`` does.

    Iterate it once per epoch (it moves to the next epoch at the end; :meth:`set_epoch` chooses
    one); ``len()``, :meth:`state_dict` and :meth:`load_state_dict` are the loader's.
    """

    def __init__(self, path: str, batch_size: int, *, pin_memory: bool = False, **arguments: Any):
        if "rank" not in arguments and "world_size" not in arguments:
            distributed = torch.distributed
            if distributed.is_available() and distributed.is_initialized():
                arguments["rank"], arguments["world_size"] = distributed.get_rank(), distributed.get_world_size()
        self.loader = Loader(path, batch_size, **arguments)
        self.pin_memory = pin_memory and self._can_pin()
        self._pinned: list = []

    @staticmethod
    def _can_pin() -> bool:
        if torch.cuda.is_available():
            return True
        warnings.warn("pin_memory=True, but no CUDA device is available: batches are not pinned", stacklevel=3)
        return False

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        for number, (images, labels) in enumerate(self.loader):
            x = torch.from_numpy(images)
            if self.pin_memory:
                x = self._pin(x, number)
            yield x, torch.from_numpy(labels).long()

    def _pin(self, images: torch.Tensor, number: int) -> torch.Tensor:
        """``images`` copied into a page-locked buffer (two, alternating, allocated once)."""
        if not self._pinned:
            full = (self.loader.batch_size,) + tuple(images.shape[1:])
            self._pinned = [torch.empty(full, dtype=images.dtype, pin_memory=True) for _ in range(2)]
        buffer = self._pinned[number % 2][: images.shape[0]]
        buffer.copy_(images)
        return buffer

    @property
    def epoch(self) -> int:
        return self.loader.epoch

    def set_epoch(self, epoch: int) -> None:
        self.loader.set_epoch(epoch)

    def state_dict(self) -> Dict[str, Any]:
        return self.loader.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.loader.load_state_dict(state)

    def close(self) -> None:
        self.loader.close()


class ShardDataset(torch.utils.data.Dataset):
    """A map-style ``Dataset`` over a shard set: item ``i`` is ``(image, label)`` with ``image`` a
    float32 CHW tensor (each uint8 sample times the set's rescale, as dataprep's batch reader gives
    it) passed through ``transform`` when one is given, and ``label`` an int.

    Without ``copy`` it covers every sample of the set (all augmented copies); with ``copy=c`` it
    covers copy ``c`` of every image (item ``i`` is sample ``i * copies + c``), which is what
    dataprep's trainer reads in an epoch ``e`` with ``e % copies == c``.

    The shards are memory-mapped on first access in each process, never loaded whole, so the dataset
    works with ``DataLoader(num_workers > 0)`` and ``DistributedSampler``. Records are checked
    against their XXH64 when ``xxhash`` is installed (see :attr:`ShardSet.checksums_verified`).
    """

    def __init__(
        self,
        path: str,
        transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        copy: Optional[int] = None,
    ):
        self.set = ShardSet(path)
        self.transform = transform
        if copy is not None and not 0 <= copy < self.set.copies:
            raise ValueError(f"copy must be in 0..<{self.set.copies}, got {copy}")
        self.copy = copy

    def __len__(self) -> int:
        return len(self.set) if self.copy is None else self.set.images_per_copy

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, int]:
        if self.copy is not None:
            if not 0 <= index < len(self):
                raise IndexError(f"item {index} is outside 0..<{len(self)}")
            index = index * self.set.copies + self.copy
        values, label = self.set.float_sample(index, layout="nchw")
        image = torch.from_numpy(values)
        if self.transform is not None:
            image = self.transform(image)
        return image, label
