"""Runtime helpers for building lazy ``funlib.persistence.Array``s (imports dask)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import dask
import dask.array as da
from funlib.geometry import Coordinate
from funlib.persistence import Array

# DaCapo reads block-sized pieces: dask's thread pool only adds overhead there, and its idle
# threads make forked data/daisy workers prone to deadlocks. Compute in the calling thread.
dask.config.set(scheduler="synchronous")


def axis_types(axis_names: Sequence[str]) -> list[str]:
    return ["channel" if name.endswith("^") else "space" for name in axis_names]


def make_array(
    data: da.Array,
    offset: Sequence[int],
    voxel_size: Sequence[int],
    axis_names: Sequence[str],
    units: Optional[Sequence[str]] = None,
    attrs: Optional[dict[str, Any]] = None,
) -> Array:
    """A funlib ``Array`` over a dask array (nothing is computed until indexed)."""
    voxel_size = Coordinate(voxel_size)
    if units is None:
        units = ["nm"] * voxel_size.dims
    array = Array(
        data,
        offset=Coordinate(offset),
        voxel_size=voxel_size,
        axis_names=list(axis_names),
        units=list(units),
        types=axis_types(axis_names),
    )
    if attrs:
        array.attrs.update(attrs)
    return array


_METADATA_KEYS = (
    "voxel_size",
    "offset",
    "axis_names",
    "units",
    "types",
    "resolution",
    "pixelResolution",
    "transform",
    "multiscales",
)


def copy_attrs(array: Array) -> dict[str, Any]:
    """A plain-dict copy of an array's attributes (zarr attributes are read once)."""
    try:
        return dict(array.attrs)
    except Exception:  # attributes are a convenience, never a reason to fail
        return {}


def derived(
    source: Array,
    data: da.Array,
    *,
    axis_names: Optional[Sequence[str]] = None,
    offset: Optional[Sequence[int]] = None,
    voxel_size: Optional[Sequence[int]] = None,
    attrs: Optional[dict[str, Any]] = None,
) -> Array:
    """An array computed lazily from ``source``: same metadata unless overridden; attributes are
    inherited (so CellMap annotation attributes survive resampling) and updated with ``attrs``."""
    inherited = copy_attrs(source)
    for key in _METADATA_KEYS:
        inherited.pop(key, None)
    inherited.update(attrs or {})
    return make_array(
        data,
        offset=source.offset if offset is None else offset,
        voxel_size=source.voxel_size if voxel_size is None else voxel_size,
        axis_names=source.axis_names if axis_names is None else axis_names,
        units=source.units,
        attrs=inherited,
    )
