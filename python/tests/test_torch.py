"""The PyTorch adapter: DataLoader workers and DistributedSampler ranks (see shardfixtures)."""

import importlib.util
import unittest

import numpy as np

from shardfixtures import expected_sets, needs_fixtures

HAVE_TORCH = importlib.util.find_spec("torch") is not None
if HAVE_TORCH:
    import torch
    from torch.utils.data import DataLoader, DistributedSampler

    from dataprep_shards.torch import ShardDataset


@needs_fixtures
@unittest.skipUnless(HAVE_TORCH, "torch is not installed: make test-torch installs it")
class TorchTests(unittest.TestCase):
    def test_items_are_batch_loader_values_in_chw(self):
        for path, indices, labels, images in expected_sets():
            dataset = ShardDataset(path)
            spec = dataset.set.spec
            with self.subTest(path=path):
                for row, index in enumerate(indices):
                    image, label = dataset[int(index)]
                    self.assertEqual(image.dtype, torch.float32)
                    self.assertEqual(tuple(image.shape), (spec.channels, spec.height, spec.width))
                    nhwc = image.permute(1, 2, 0).contiguous().numpy()
                    self.assertEqual(nhwc.tobytes(), images[row].tobytes())
                    self.assertEqual(label, labels[row])

    def test_one_copy_is_one_epoch_of_batch_loader(self):
        for path, indices, _, images in expected_sets():
            copies = ShardDataset(path).set.copies
            per_copy = len(indices) // copies
            for copy in range(copies):
                dataset = ShardDataset(path, copy=copy)
                self.assertEqual(len(dataset), per_copy)
                for item in range(len(dataset)):
                    row = copy * per_copy + item  # the expected batches hold epochs 0..<copies in order
                    self.assertEqual(dataset[item][0].permute(1, 2, 0).contiguous().numpy().tobytes(), images[row].tobytes())

    def test_data_loader_with_two_workers_reads_every_sample(self):
        path = expected_sets()[0][0]
        dataset = ShardDataset(path, transform=lambda image: image * 2)
        loader = DataLoader(dataset, batch_size=3, shuffle=False, num_workers=2)
        images, labels = [], []
        for batch_images, batch_labels in loader:
            images.append(batch_images)
            labels.append(batch_labels)
        images, labels = torch.cat(images), torch.cat(labels)
        self.assertEqual(len(images), len(dataset))
        for i in range(len(dataset)):
            expected = dataset.set.float_image(i, layout="nchw") * np.float32(2)
            self.assertEqual(images[i].numpy().tobytes(), expected.tobytes())
            self.assertEqual(int(labels[i]), dataset.set.label(i))

    def test_two_distributed_ranks_cover_the_set_once(self):
        for path, _, _, _ in expected_sets():
            dataset = ShardDataset(path)
            if len(dataset) % 2:
                continue  # DistributedSampler pads an odd set by repeating a sample
            seen = []
            for rank in range(2):
                sampler = DistributedSampler(dataset, num_replicas=2, rank=rank, shuffle=False)
                loader = DataLoader(dataset, batch_size=2, sampler=sampler, num_workers=2)
                rank_indices = list(sampler)
                self.assertEqual(len(rank_indices), len(dataset) // 2)
                labels = torch.cat([batch_labels for _, batch_labels in loader]).tolist()
                self.assertEqual(labels, [dataset.set.label(i) for i in rank_indices])
                seen += rank_indices
            self.assertEqual(sorted(seen), list(range(len(dataset))))


if __name__ == "__main__":
    unittest.main()
