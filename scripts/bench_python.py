#!/usr/bin/env python3
"""`make bench ONLY=python`'s Python rows: one pipeline, timed over whole epochs for at least
--seconds after a warm-up pass, printed as one JSON line {"rate": images/s, "rss_mb": peak RSS}.

    bench_python.py loader SHARDS          dataprep_shards.Loader (the engine), fresh augmentation
    bench_python.py keras IMAGES           Keras 3 ImageDataGenerator.flow_from_directory
    bench_python.py torchvision IMAGES     ImageFolder + transforms.v2, DataLoader with 2 workers
    bench_python.py torchvision-shards SHARDS   ShardDataset + the same v2 transforms, 2 workers

Every pipeline gives 150×150 float32 batches of --batch images with rotation 45°, shifts 0.15,
zoom 0.5 (torchvision: scale 0.5–1.5) and horizontal flips.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

AUGMENT = dict(rotation_range=45, width_shift_range=0.15, height_shift_range=0.15, zoom_range=0.5, horizontal_flip=True)


def timed(epoch, seconds: float) -> float:
    """Images per second over whole epochs (`epoch()` returns the images it read), after one."""
    epoch()
    start, images = time.perf_counter(), 0
    while True:
        images += epoch()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return images / elapsed


def loader(path: str, batch: int, threads: int):
    import dataprep_shards

    source = dataprep_shards.Loader(path, batch, seed=1, augment=AUGMENT, threads=threads)
    return lambda: sum(len(labels) for _, labels in source)


def keras(path: str, batch: int, threads: int):
    try:  # Keras 3 keeps ImageDataGenerator among its legacy preprocessing
        from keras.preprocessing.image import ImageDataGenerator
    except ImportError:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(rescale=1.0 / 255, **AUGMENT)
    flow = generator.flow_from_directory(path, target_size=(150, 150), batch_size=batch, class_mode="binary", seed=1)

    def epoch() -> int:
        return sum(len(next(flow)[1]) for _ in range(len(flow)))

    return epoch


def _v2_augment():
    from torchvision.transforms import v2

    return [v2.RandomAffine(degrees=45, translate=(0.15, 0.15), scale=(0.5, 1.5)), v2.RandomHorizontalFlip()]


def _torch_epochs(dataset, batch: int, threads: int):
    import torch

    data = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=threads, persistent_workers=True)
    return lambda: sum(len(labels) for _, labels in data)


def torchvision(path: str, batch: int, threads: int):
    import torch
    from torchvision import datasets
    from torchvision.transforms import v2

    transform = v2.Compose([v2.ToImage(), v2.Resize((150, 150)), *_v2_augment(), v2.ToDtype(torch.float32, scale=True)])
    return _torch_epochs(datasets.ImageFolder(path, transform=transform), batch, threads)


def torchvision_shards(path: str, batch: int, threads: int):
    from torchvision.transforms import v2

    from dataprep_shards.torch import ShardDataset

    return _torch_epochs(ShardDataset(path, transform=v2.Compose(_v2_augment())), batch, threads)


PIPELINES = {"loader": loader, "keras": keras, "torchvision": torchvision, "torchvision-shards": torchvision_shards}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", choices=sorted(PIPELINES))
    parser.add_argument("path")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3)
    arguments = parser.parse_args()
    epoch = PIPELINES[arguments.pipeline](arguments.path, arguments.batch, arguments.threads)
    rate = timed(epoch, arguments.seconds)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children) / 1024
    print(json.dumps({"rate": rate, "rss_mb": rss}))


if __name__ == "__main__":
    main()
