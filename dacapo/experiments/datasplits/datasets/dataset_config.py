from __future__ import annotations

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class DatasetConfig(ConfigBase):
    """Base of dataset configs; ``dataset_type(config)`` builds the runtime ``Dataset``."""

    name: str = help_field("A unique name for this dataset.")
    weight: int = help_field("Relative sampling weight of this dataset during training.", default=1)

    @property
    def dataset_type(self):
        raise NotImplementedError(f"{type(self).__name__}.dataset_type")
