from __future__ import annotations

import attrs

from dacapo.config import help_field

from .arrays._fields import is_instance
from .arrays.array_config import ArrayConfig
from .arrays.dummy_array_config import DummyArrayConfig
from .dataset_config import DatasetConfig

_is_array_config = is_instance(ArrayConfig, "an array config")


@attrs.frozen
class DummyDatasetConfig(DatasetConfig):
    """A dataset for tests and dummy runs: raw and gt default to ``DummyArrayConfig`` zeros;
    no mask."""

    raw_config: ArrayConfig = help_field(
        "The raw array.",
        factory=lambda: DummyArrayConfig("dummy_raw"),
        validator=_is_array_config,
    )
    gt_config: ArrayConfig = help_field(
        "The ground-truth array.",
        factory=lambda: DummyArrayConfig("dummy_gt"),
        validator=_is_array_config,
    )

    @property
    def dataset_type(self):
        from .dummy_dataset import DummyDataset

        return DummyDataset

    def dataset(self):
        return self.dataset_type(self)

    def verify(self) -> tuple[bool, str]:
        for field in ("raw_config", "gt_config"):
            ok, message = getattr(self, field).verify()
            if not ok:
                return False, f"{type(self).__name__} {self.name!r}: {field}: {message}"
        return True, f"{type(self).__name__} {self.name!r}: ok"
