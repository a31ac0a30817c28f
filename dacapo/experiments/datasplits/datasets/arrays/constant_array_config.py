from __future__ import annotations

import attrs

from dacapo.config import check, help_field

from ._fields import is_instance
from .array_config import ArrayConfig


@attrs.frozen
class ConstantArrayConfig(ArrayConfig):
    """An array filled with ``constant``, shaped like its source (same ROI, voxel size, axes
    and channels); uint8 when the constant fits, else int64. E.g. a zero channel for a class
    a crop does not annotate, or a mask of ones. Nothing is read from the source and only the
    requested region is ever allocated."""

    source_array_config: ArrayConfig = help_field(
        "The array whose geometry to copy.", validator=is_instance(ArrayConfig, "an array config")
    )
    constant: int = help_field(
        "The value of every voxel.",
        default=1,
        validator=check(lambda v: isinstance(v, int) and not isinstance(v, bool), "must be an integer"),
    )

    def array(self, mode: str = "r"):
        from .constant_array import constant_array

        return constant_array(self, self.constant)

