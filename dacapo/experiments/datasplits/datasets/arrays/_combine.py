"""Runtime helpers of the array configs that combine several arrays or crop one."""

from __future__ import annotations

from typing import Any, Sequence

from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from ._fields import config_error


def spatial_names(array: Array) -> list[str]:
    return [n for n in array.axis_names if not n.endswith("^")]


def on_grid(array: Array, roi: Roi) -> bool:
    """Whether ``roi`` lies on ``array``'s voxel grid."""
    voxel_size = Coordinate(array.voxel_size)
    return all(
        (b - o) % v == 0 and s % v == 0
        for b, o, s, v in zip(roi.begin, array.offset, roi.shape, voxel_size)
    )


def common_roi(config: Any, field: str, arrays: Sequence[Array], names: Sequence[str]) -> Roi:
    """The intersection of the ROIs of ``arrays``, which must share voxel size and grid."""
    first = arrays[0]
    voxel_size = Coordinate(first.voxel_size)
    for array, name in zip(arrays[1:], names[1:]):
        if Coordinate(array.voxel_size) != voxel_size:
            raise config_error(
                config,
                field,
                list(names),
                f"have different voxel sizes: {names[0]} {tuple(voxel_size)}, {name} "
                f"{tuple(array.voxel_size)} (resample them first)",
            )
        if any((a - b) % v for a, b, v in zip(array.offset, first.offset, voxel_size)):
            raise config_error(
                config,
                field,
                list(names),
                f"are on different voxel grids: {names[0]} offset {tuple(first.offset)}, {name} "
                f"offset {tuple(array.offset)} with voxel size {tuple(voxel_size)}",
            )
    roi = first.roi
    for array in arrays[1:]:
        roi = roi.intersect(array.roi)
    if roi.empty:
        raise config_error(
            config,
            field,
            list(names),
            "do not overlap (rois " + ", ".join(str(a.roi) for a in arrays) + ")",
        )
    return roi
