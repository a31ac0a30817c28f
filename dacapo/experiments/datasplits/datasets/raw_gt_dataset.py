"""Runtime of ``RawGTDatasetConfig``."""

from __future__ import annotations

from .dataset import Dataset


class RawGTDataset(Dataset):
    """Raw, gt and optional mask arrays opened (lazily) from a ``RawGTDatasetConfig``."""

    def __init__(self, dataset_config):
        self.config = dataset_config
        self.name = dataset_config.name
        self.weight = dataset_config.weight
        self.raw = dataset_config.raw_config.array("r")
        self.gt = dataset_config.gt_config.array("r")
        self.mask = (
            dataset_config.mask_config.array("r") if dataset_config.mask_config is not None else None
        )
        self.sample_points = (
            list(dataset_config.sample_points) if dataset_config.sample_points is not None else None
        )
