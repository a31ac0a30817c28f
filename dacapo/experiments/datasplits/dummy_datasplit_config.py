from __future__ import annotations

import attrs

from dacapo.config import help_field

from .datasets.arrays._fields import is_instance
from .datasets.dataset_config import DatasetConfig
from .datasets.dummy_dataset_config import DummyDatasetConfig
from .datasplit_config import DataSplitConfig


@attrs.frozen
class DummyDataSplitConfig(DataSplitConfig):
    """A datasplit for tests and dummy runs: one training dataset (default: a
    ``DummyDatasetConfig`` of zeros), no validation datasets."""

    train_config: DatasetConfig = help_field(
        "The training dataset.",
        factory=lambda: DummyDatasetConfig("dummy_dataset"),
        validator=is_instance(DatasetConfig, "a dataset config"),
    )

    @property
    def datasplit_type(self):
        from .dummy_datasplit import DummyDataSplit

        return DummyDataSplit

    def datasplit(self):
        return self.datasplit_type(self)

    def verify(self) -> tuple[bool, str]:
        ok, message = self.train_config.verify()
        if not ok:
            return False, f"{type(self).__name__} {self.name!r}: {message}"
        return True, f"{type(self).__name__} {self.name!r}: 1 dataset ok"
