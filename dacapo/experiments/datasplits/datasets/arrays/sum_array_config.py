from __future__ import annotations

import attrs

from dacapo.config import help_field

from ._fields import to_list
from ._source_fields import is_array_config_list
from .array_config import ArrayConfig


@attrs.frozen
class SumArrayConfig(ArrayConfig):
    """The voxel-wise sum of arrays (e.g. the union of masks: > 0 where any is set). All
    sources share the voxel size and channel shape; the ROI is the intersection of their ROIs.
    The dtype follows ``numpy.sum`` (small integers accumulate in 64 bits, no overflow)."""

    source_array_configs: list[ArrayConfig] = help_field(
        "The arrays to add up.", converter=to_list, validator=is_array_config_list
    )

    def array(self, mode: str = "r"):
        from .sum_array import sum_array

        return sum_array(self, mode)

