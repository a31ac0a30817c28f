from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class DatasetConfig(ConfigBase):
    """Base of dataset configs; ``dataset_type(config)`` builds the runtime ``Dataset``."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this dataset.")
    weight: int = help_field("Relative sampling weight of this dataset during training.", default=1)

    @property
    def dataset_type(self):
        raise self.kind_required("dataset_type")
