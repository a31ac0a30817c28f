"""Runtime of ``OnesArrayConfig``, ``ConstantArrayConfig`` and ``DummyArrayConfig``: constant
arrays that allocate only what is read."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array

from .array_utils import computed_array, computed_from


def constant_dtype(value: int) -> np.dtype:
    return np.dtype(np.uint8) if 0 <= value <= 255 else np.dtype(np.int64)


def full(channel_shape: tuple, voxel_size: Coordinate, value, dtype, roi: Roi) -> np.ndarray:
    """A fresh, writable ``value``-filled block of ``roi`` (allocated only when read)."""
    return np.full(tuple(channel_shape) + tuple(roi.shape / voxel_size), value, dtype=dtype)


def constant_array(config, value: int) -> Array:
    source = config.source_array_config.array("r")
    dtype = constant_dtype(int(value))
    channels = tuple(source.shape[: source.channel_dims])
    fill = partial(full, channels, Coordinate(source.voxel_size), value, dtype)
    return computed_from(source, fill, dtype, attrs={"constant": int(value)})


DUMMY_SHAPE = (100, 100, 100)


def dummy_array(config) -> Array:
    voxel_size = Coordinate(1, 1, 1)
    return computed_array(
        partial(full, (), voxel_size, 0, np.float32),
        np.float32,
        roi=Roi((0, 0, 0), DUMMY_SHAPE),
        voxel_size=voxel_size,
        axis_names=["z", "y", "x"],
        chunks=(50, 50, 50),
    )
