from __future__ import annotations

import attrs
from funlib.geometry import Roi

from dacapo.config import check, help_field

from ._fields import is_instance
from ._source_fields import to_roi
from .array_config import ArrayConfig


@attrs.frozen
class CropArrayConfig(ArrayConfig):
    """A lazy crop of an array to ``roi`` (world units, on the source's voxel grid),
    intersected with the source's ROI. Channels and voxel size are the source's."""

    source_array_config: ArrayConfig = help_field(
        "The array to crop.", validator=is_instance(ArrayConfig, "an array config")
    )
    roi: Roi = help_field(
        "The region to keep (world units), e.g. Roi((0, 0, 0), (1000, 2048, 2048)).",
        converter=to_roi,
        validator=check(
            lambda v: isinstance(v, Roi) and not v.empty and v.shape.dims > 0 and not v.unbounded,
            "must be a non-empty, bounded Roi",
        ),
    )

    def array(self, mode: str = "r"):
        from .crop_array import crop_array

        return crop_array(self, mode)

