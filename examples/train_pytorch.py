#!/usr/bin/env python3
"""Trains the Keras tutorial's CNN in PyTorch from dataprep's engine: the tutorial's
ImageDataGenerator arguments, applied afresh to every sample in every epoch by the engine's
threads while PyTorch trains. Runs under DDP too (torchrun --nproc-per-node N ...): each process
reads its own share of every epoch.

    dataprep pack DATA/train --size 64x64 --out shards
    dataprep pack DATA/validation --size 64x64 --out shards/validation
    python3 examples/train_pytorch.py shards [--epochs 5] [--expect-accuracy 0.8]

Needs torch and dataprep_shards with its engine (`make python`). Exits 1 when --expect-accuracy is
given and the last epoch's validation accuracy is below it.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.distributed as dist
from torch import nn

from dataprep_shards.torch import TorchLoader

# The tutorial's ImageDataGenerator(...) arguments, unchanged (rescale=1./255 is the set's own).
AUGMENT = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
    rescale=1.0 / 255,
)


def tutorial_cnn(height: int, width: int, channels: int) -> nn.Module:
    """The tutorial's network: Conv 16-32-64 'same' + max-pools, Dense 512, one logit."""
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * (height // 8) * (width // 8), 512), nn.ReLU(),
        nn.Linear(512, 1),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shards", help="the training set (its validation set is SHARDS/validation)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expect-accuracy", type=float)
    arguments = parser.parse_args()
    torch.manual_seed(arguments.seed)
    distributed = "WORLD_SIZE" in os.environ  # started by torchrun
    if distributed:
        dist.init_process_group("gloo")

    # Under DDP, TorchLoader takes its rank and world size from torch.distributed.
    train = TorchLoader(
        arguments.shards, arguments.batch_size, seed=arguments.seed, augment=AUGMENT, drop_last=distributed
    )
    validation = TorchLoader(arguments.shards + "/validation", 100, shuffle=False, rank=0, world_size=1)
    spec = train.loader.spec
    model = tutorial_cnn(spec.height, spec.width, spec.channels)
    if distributed:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = nn.BCEWithLogitsLoss()

    accuracy = 0.0
    for epoch in range(arguments.epochs):
        train.set_epoch(epoch)
        model.train()
        total, seen = 0.0, 0
        for images, labels in train:
            optimizer.zero_grad()
            loss = loss_function(model(images).squeeze(1), labels.float())
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            seen += len(labels)
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in validation:
                correct += int(((model(images).squeeze(1) > 0).long() == labels).sum())
        accuracy = correct / validation.loader.samples_per_epoch
        print(f"epoch {epoch + 1}/{arguments.epochs}  loss {total / seen:.4f}  val_accuracy {accuracy:.4f}", flush=True)
    if distributed:
        dist.destroy_process_group()
    print(f"final val_accuracy {accuracy:.4f}")
    if arguments.expect_accuracy is not None and accuracy < arguments.expect_accuracy:
        print(f"expected at least {arguments.expect_accuracy}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
