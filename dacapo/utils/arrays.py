"""Creating and opening the zarr arrays DaCapo writes (predictions, outputs, snapshots) with
funlib-style metadata: ``voxel_size``, ``offset``, ``axis_names`` (``c^`` for channels), ``units``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from funlib.geometry import Coordinate, Roi


def create_array(
    identifier,
    roi: Roi,
    voxel_size: Coordinate,
    num_channels: Optional[int],
    dtype=np.float32,
    channel_names: Optional[Sequence[str]] = None,
    chunk_shape: Optional[Sequence[int]] = None,
    mode: str = "w",
    attributes: Optional[dict] = None,
):
    """A writable funlib Array at ``identifier`` (``.container``/``.dataset``) covering ``roi``,
    with extra ``attributes`` written as it is created."""
    import zarr
    from funlib.persistence import prepare_ds

    container = Path(identifier.container)
    zarr.open_group(str(container), mode="a")
    dims = roi.dims
    shape = tuple(roi.shape / voxel_size)
    axis_names = [f"d{i}" for i in range(dims)] if dims != 3 else ["z", "y", "x"]
    if dims == 2:
        axis_names = ["y", "x"]
    if num_channels is not None:
        shape = (num_channels,) + shape
        axis_names = ["c^"] + axis_names
    if chunk_shape is None:
        spatial = tuple(min(s, 64) for s in shape[-dims:])
        chunk_shape = ((num_channels,) if num_channels is not None else ()) + spatial
    array = prepare_ds(
        str(container / identifier.dataset),
        shape=shape,
        offset=roi.offset,
        voxel_size=voxel_size,
        axis_names=axis_names,
        units=["nm"] * dims,
        chunk_shape=chunk_shape,
        dtype=dtype,
        mode=mode,
        custom_metadata=attributes,
    )
    if channel_names is not None:
        array._source_data.attrs["channel_names"] = list(channel_names)
    return array


def open_array(identifier, mode: str = "r"):
    from funlib.persistence import open_ds

    return open_ds(str(Path(identifier.container) / identifier.dataset), mode=mode)
