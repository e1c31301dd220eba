"""A PyTorch adapter for dataprep shard sets (needs ``torch``: ``pip install ./python[torch]``)."""

from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
import torch.utils.data

from . import ShardSet

__all__ = ["ShardDataset"]


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
