"""Runtime of ``DummyDatasetConfig``."""

from __future__ import annotations

from .dataset import Dataset


class DummyDataset(Dataset):
    def __init__(self, dataset_config):
        self.config = dataset_config
        self.name = dataset_config.name
        self.weight = dataset_config.weight
        self.raw = dataset_config.raw_config.array("r")
        self.gt = dataset_config.gt_config.array("r")
        self.mask = None
        self.sample_points = None
