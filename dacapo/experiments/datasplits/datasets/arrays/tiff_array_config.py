from __future__ import annotations

from pathlib import Path
from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import ConfigError, help_field

from ._fields import (
    is_coordinate,
    is_path,
    is_positive_coordinate,
    is_str_list,
    to_coordinate,
    to_optional_str_list,
    to_path,
)
from .array_config import ArrayConfig


@attrs.frozen
class TiffArrayConfig(ArrayConfig):
    """A TIFF stack, read lazily (page by page, or tile by tile, through tifffile's zarr
    interface): a multi-page TIFF file (its first series, full resolution), or a directory /
    glob pattern of single-image TIFF files stacked along the first axis in natural order
    (``2.tif`` before ``10.tif``).

    ``axis_names`` name the axes of the data as stored; channel axes end in ``^`` (a bare
    ``c`` is read as ``c^``) and are moved first. Default: tifffile's axes, with samples or
    channels (``S``/``C``) as channels and the rest spatial (``z``, ``y``, ``x``).
    ``voxel_size`` (default 1) and ``offset`` (world units, default 0) are per spatial axis."""

    file_name: Path = help_field(
        "A TIFF file, a directory of TIFF files, or a glob pattern such as 'stack/*.tif'.",
        converter=to_path,
        validator=is_path,
    )
    offset: Optional[Coordinate] = help_field(
        "Offset (world units) of the first voxel, per spatial axis; None: 0.",
        default=None,
        converter=to_coordinate,
        validator=is_coordinate,
    )
    voxel_size: Optional[Coordinate] = help_field(
        "Voxel size (world units) per spatial axis, e.g. (50, 4, 4); None: 1.",
        default=None,
        converter=to_coordinate,
        validator=is_positive_coordinate,
    )
    axis_names: Optional[list[str]] = help_field(
        "Names of the stored axes, e.g. ['z', 'y', 'x'] or ['y', 'x', 'c^']; None: from the file.",
        default=None,
        converter=to_optional_str_list,
        validator=is_str_list,
    )
    units: Optional[list[str]] = help_field(
        "Units of the spatial axes, e.g. ['nm', 'nm', 'nm']; None: nanometres.",
        default=None,
        converter=to_optional_str_list,
        validator=is_str_list,
    )

    def __attrs_post_init__(self) -> None:
        prefix = f"{type(self).__name__} {self.name!r}"
        if self.offset is not None and self.voxel_size is not None:
            if len(self.offset) != len(self.voxel_size):
                raise ConfigError(
                    f"{prefix}: offset={tuple(self.offset)} and voxel_size={tuple(self.voxel_size)} "
                    "must have the same number of axes"
                )
        if self.units is not None and self.voxel_size is not None and len(self.units) != len(self.voxel_size):
            raise ConfigError(
                f"{prefix}: units={self.units!r} must have one unit per spatial axis of "
                f"voxel_size={tuple(self.voxel_size)}"
            )
        if self.axis_names is not None:
            names = self.axis_names
            if len(set(names)) != len(names):
                raise ConfigError(f"{prefix}: axis_names={names!r} must be distinct")
            spatial = [n for n in names if not (n.endswith("^") or n == "c")]
            for field in ("offset", "voxel_size"):
                value = getattr(self, field)
                if value is not None and len(value) != len(spatial):
                    raise ConfigError(
                        f"{prefix}: {field}={tuple(value)} has {len(value)} axes, axis_names="
                        f"{names!r} has {len(spatial)} spatial axes"
                    )

    def array(self, mode: str = "r"):
        from .tiff_array import open_tiff_array

        return open_tiff_array(self, mode)

