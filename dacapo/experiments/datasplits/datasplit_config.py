from __future__ import annotations

from typing import ClassVar

import attrs

from dacapo.config import ConfigBase, help_field


@attrs.frozen
class DataSplitConfig(ConfigBase):
    """Base of datasplit configs; ``datasplit_type(config)`` builds the runtime ``DataSplit``
    with ``train`` and ``validate`` lists of datasets."""

    _abstract: ClassVar[bool] = True  # a family base: documents name one of its kinds

    name: str = help_field("A unique name for this datasplit.")

    @property
    def datasplit_type(self):
        raise self.kind_required("datasplit_type")
