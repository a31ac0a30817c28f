from __future__ import annotations

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class DataSplitConfig(ConfigBase):
    """Base of datasplit configs; ``datasplit_type(config)`` builds the runtime ``DataSplit``
    with ``train`` and ``validate`` lists of datasets."""

    name: str = help_field("A unique name for this datasplit.")

    @property
    def datasplit_type(self):
        raise NotImplementedError(f"{type(self).__name__}.datasplit_type")
