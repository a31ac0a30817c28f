from __future__ import annotations

from pathlib import Path
from typing import Optional

import attrs
from funlib.geometry import Coordinate

from dacapo.config import check, help_field

from ._fields import (
    is_coordinate,
    is_path_or_url,
    is_positive_coordinate,
    is_str,
    is_str_list,
    to_coordinate,
    to_optional_str_list,
    to_path,
)
from .array_config import ArrayConfig

_MODES = ("r", "r+", "a", "w")


@attrs.frozen
class ZarrArrayConfig(ArrayConfig):
    """A dataset inside a zarr (v2 or v3) or N5 container on disk, or (zarr v2, N5, OME-NGFF;
    read-only) at an ``s3://``, ``gs://`` or ``https://`` URL read through fsspec with a chunk
    cache (see docs/migration.md); zarr v3 (a ``zarr.json`` in the container or on the way to
    the dataset; sharding, gzip/zstd/blosc) is read-only.

    Metadata is read from the dataset's attributes, first match wins: funlib's ``voxel_size`` /
    ``offset`` / ``axis_names`` / ``units`` (z, y, x order); a CellMap ``transform``
    (``{axes, scale, translate, units}``); the OME-NGFF ``multiscales`` of the parent group;
    ``resolution`` / ``offset`` (reversed from x, y, z in N5 containers, as written by the N5
    tools; as-is in zarr containers) or N5 ``pixelResolution``; axis names of zarr v3 arrays
    default to their ``dimension_names`` (``c``/``channel`` are channel axes). Voxel size
    defaults to 1 and offset to 0. The dataset path may contain empty components (``labels//all``).

    An OME-NGFF multiscale group opens the level named in the path (``raw/s1``), else the
    level whose voxel size is ``voxel_size``, else its first (highest resolution) level."""

    file_name: Path = help_field(
        "Path or URL (s3://, gs://, https://) of the zarr (v2 or v3) or N5 container (a .n5 "
        "suffix or a root attributes.json means N5).",
        converter=to_path,
        validator=is_path_or_url,
    )
    dataset: str = help_field(
        "Path of the dataset inside the container, e.g. 'volumes/raw/s1'.", validator=is_str
    )
    snap_to_grid: Optional[Coordinate] = help_field(
        "Shrink the array's ROI to this grid (world units), e.g. (16, 16, 16).",
        default=None,
        converter=to_coordinate,
        validator=is_positive_coordinate,
    )
    axes: Optional[list[str]] = help_field(
        "Override the axis names; channel axes end in '^' (a bare 'c' is read as 'c^').",
        default=None,
        converter=to_optional_str_list,
        validator=is_str_list,
    )
    voxel_size: Optional[Coordinate] = help_field(
        "Override the voxel size (world units, spatial axes only) read from the metadata; "
        "for a multiscale group, choose the level with this voxel size.",
        default=None,
        converter=to_coordinate,
        validator=is_positive_coordinate,
    )
    offset: Optional[Coordinate] = help_field(
        "Override the offset (world units, spatial axes only) read from the metadata.",
        default=None,
        converter=to_coordinate,
        validator=is_coordinate,
    )
    mode: str = help_field(
        "The most permissive mode this array may be opened with: 'r' makes it read-only; "
        "'r+', 'a' or 'w' allow writing (the data is never truncated by opening).",
        default="a",
        validator=check(lambda m: m in _MODES, f"must be one of {_MODES}"),
    )

    def array(self, mode: str = "r"):
        """The lazy ``funlib.persistence.Array``; ``mode`` 'r' (default) or 'r+'/'a' to write."""
        from .zarr_array import open_zarr_array

        return open_zarr_array(self, mode)

