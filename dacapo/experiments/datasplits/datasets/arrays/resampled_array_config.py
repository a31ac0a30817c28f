from __future__ import annotations

from typing import Union

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, check, help_field

from ._fields import is_instance, is_non_negative_coordinate, to_coordinate
from .array_config import ArrayConfig

_is_array_config = is_instance(ArrayConfig, "an array config")
_is_order = check(
    lambda v: isinstance(v, (bool, int)) and 0 <= int(v) <= 5,
    "must be False/True or an interpolation order 0..5",
)


@attrs.frozen
class ResampledArrayConfig(ArrayConfig):
    """Lazily resample an array. Per axis, ``upsample`` u and ``downsample`` d (0 or 1 = no
    change) give the voxel size ``source_voxel_size * d / u``.

    ``interp_order`` 0/False (labels): upsampling repeats voxels, downsampling takes every d-th
    voxel (the first voxel of each d-block). Order >= 1/True (intensities): upsampling
    interpolates linearly between voxel centres, downsampling averages each d-block (integer
    dtypes are rounded back). The output ROI is the source ROI shrunk to the new voxel grid."""

    source_array_config: ArrayConfig = help_field(
        "The array to resample.", validator=_is_array_config
    )
    upsample: Coordinate = help_field(
        "Upsampling factor per spatial axis (0 or 1 = none).",
        converter=to_coordinate,
        validator=is_non_negative_coordinate,
    )
    downsample: Coordinate = help_field(
        "Downsampling factor per spatial axis (0 or 1 = none).",
        converter=to_coordinate,
        validator=is_non_negative_coordinate,
    )
    interp_order: Union[bool, int] = help_field(
        "Interpolation order: False/0 for labels (nearest), True/1 for intensities.",
        default=False,
        validator=_is_order,
    )

    def __attrs_post_init__(self) -> None:
        if len(self.upsample) != len(self.downsample):
            raise ConfigError(
                f"{type(self).__name__} {self.name!r}: upsample={tuple(self.upsample)} and "
                f"downsample={tuple(self.downsample)} must have the same number of axes"
            )

    @property
    def up_factors(self) -> Coordinate:
        return Coordinate(max(1, u) for u in self.upsample)

    @property
    def down_factors(self) -> Coordinate:
        return Coordinate(max(1, d) for d in self.downsample)

    def array(self, mode: str = "r"):
        from .resampled_array import resampled_array

        return resampled_array(self, mode)

