"""Runtime of ``DummyDataSplitConfig``."""

from __future__ import annotations

from .datasplit import DataSplit


class DummyDataSplit(DataSplit):
    def __init__(self, datasplit_config):
        self.config = datasplit_config
        self.name = datasplit_config.name
        train = datasplit_config.train_config
        self.train = [train.dataset_type(train)]
        self.validate = []
