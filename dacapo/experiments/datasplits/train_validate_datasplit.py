"""Runtime of ``TrainValidateDataSplitConfig``."""

from __future__ import annotations

from .datasplit import DataSplit


class TrainValidateDataSplit(DataSplit):
    def __init__(self, datasplit_config):
        self.config = datasplit_config
        self.name = datasplit_config.name
        self.train = [c.dataset_type(c) for c in datasplit_config.train_configs]
        self.validate = [c.dataset_type(c) for c in datasplit_config.validate_configs]
