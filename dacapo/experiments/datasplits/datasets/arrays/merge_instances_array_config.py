from __future__ import annotations

import attrs

from dacapo.config import help_field

from ._fields import to_list
from ._source_fields import is_array_config_list
from .array_config import ArrayConfig


@attrs.frozen
class MergeInstancesArrayConfig(ArrayConfig):
    """Merge instance label arrays (non-negative integer ids, 0 = background, no channel
    axis) into one uint64 label array whose ids are unique across sources and consistent
    across blocks: with ``n`` sources, id ``i > 0`` of source ``k`` (0-based) becomes
    ``(i - 1) * n + k + 1`` (one source: unchanged). Where several sources label a voxel the
    earliest source wins. This needs no pass over the data (offsetting by maximum ids
    would). All sources share the voxel size; the ROI is the intersection of theirs."""

    source_array_configs: list[ArrayConfig] = help_field(
        "The instance label arrays to merge.", converter=to_list, validator=is_array_config_list
    )

    def array(self, mode: str = "r"):
        from .merge_instances_array import merge_instances_array

        return merge_instances_array(self, mode)

