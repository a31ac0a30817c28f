"""Runtime of ``CropArrayConfig``."""

from __future__ import annotations

from funlib.geometry import Coordinate
from funlib.persistence import Array

from ._combine import crop_data, on_grid
from ._fields import config_error
from .array_utils import derived


def crop_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    roi = config.roi
    if roi.dims != source.spatial_dims:
        raise config_error(
            config, "roi", roi, f"has {roi.dims} axes, the source has {source.spatial_dims} spatial axes"
        )
    if not on_grid(source, roi):
        raise config_error(
            config,
            "roi",
            roi,
            f"is not on the voxel grid of the source (offset {tuple(source.offset)}, voxel size "
            f"{tuple(source.voxel_size)})",
        )
    cropped = roi.intersect(source.roi)
    if cropped.empty:
        raise config_error(config, "roi", roi, f"does not overlap the source roi {source.roi}")
    return derived(source, crop_data(source, cropped), offset=Coordinate(cropped.begin))
