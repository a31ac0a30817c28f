"""Runtime of ``CropArrayConfig``."""

from __future__ import annotations

from functools import partial

from funlib.persistence import Array

from ._combine import on_grid
from ._fields import config_error
from .array_utils import computed_from, read


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
    return computed_from(source, partial(read, source), source.dtype, roi=cropped)
