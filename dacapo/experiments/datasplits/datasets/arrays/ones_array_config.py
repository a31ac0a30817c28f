from __future__ import annotations

import attrs

from dacapo.config import help_field

from ._fields import is_instance
from .array_config import ArrayConfig


@attrs.frozen
class OnesArrayConfig(ArrayConfig):
    """A uint8 array of ones shaped like its source (same ROI, voxel size, axes and
    channels), e.g. an explicit "everything is valid" mask. Nothing is read from the source
    and only the requested region is ever allocated."""

    source_array_config: ArrayConfig = help_field(
        "The array whose geometry to copy.", validator=is_instance(ArrayConfig, "an array config")
    )

    def array(self, mode: str = "r"):
        from .constant_array import constant_array

        return constant_array(self, 1)

