"""dacapo-ml 0.3.5's ``dacapo.tmp`` helpers between gunpowder, numpy and funlib arrays."""

from __future__ import annotations

from typing import Optional

import numpy as np
from funlib.geometry import Coordinate, Roi


def num_channels_from_array(array) -> Optional[int]:
    """The size of the one channel axis of a funlib ``Array``; None without one."""
    if array.channel_dims == 1:
        return array.shape[[n.endswith("^") for n in array.axis_names].index(True)]
    if array.channel_dims == 0:
        return None
    raise ValueError(
        f"cannot get the number of channels of an array with {array.channel_dims} channel axes "
        f"{array.axis_names}"
    )


def np_to_funlib_array(np_array: np.ndarray, offset: Coordinate, voxel_size: Coordinate):
    """A funlib ``Array`` of ``np_array`` whose leading axes beyond ``offset.dims`` are
    batch/channel axes."""
    from funlib.persistence import Array

    channel_dims = len(np_array.shape) - Coordinate(offset).dims
    channels = ["b^", "c^"][-channel_dims:] if channel_dims > 0 else []
    spatial = ["z", "y", "x"][-Coordinate(offset).dims :]
    return Array(np_array, offset=offset, voxel_size=voxel_size, axis_names=channels + spatial)


def gp_to_funlib_array(gp_array):
    """A gunpowder ``Array`` (data + spec) as a funlib ``Array``."""
    return np_to_funlib_array(gp_array.data, gp_array.spec.roi.offset, gp_array.spec.voxel_size)


def create_from_identifier(
    array_identifier,
    axis_names,
    roi: Roi,
    num_channels: Optional[int],
    voxel_size: Coordinate,
    dtype,
    mode="a+",
    write_size=None,
    name=None,
    overwrite=False,
):
    """A writable array at ``array_identifier`` covering ``roi`` (channels first when
    ``num_channels`` is given). ``axis_names`` and ``name`` are accepted for the original's
    signature; DaCapo names the axes itself."""
    from dacapo.utils.arrays import create_array

    chunks = None
    if write_size is not None:
        spatial = tuple(Coordinate(write_size) / Coordinate(voxel_size))
        chunks = ((num_channels,) if num_channels is not None else ()) + spatial
    return create_array(
        array_identifier,
        roi=roi,
        voxel_size=Coordinate(voxel_size),
        num_channels=num_channels,
        dtype=dtype,
        chunk_shape=chunks,
        mode="w" if overwrite else "a",
    )


def open_from_identifier(array_identifier, name: str = "", mode: str = "r"):
    from dacapo.utils.arrays import open_array

    return open_array(array_identifier, mode=mode)
