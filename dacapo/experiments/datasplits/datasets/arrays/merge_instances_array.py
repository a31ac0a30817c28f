"""Runtime of ``MergeInstancesArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.geometry import Roi
from funlib.persistence import Array

from ._combine import common_roi
from ._fields import config_error
from .array_utils import computed_from, read


def _merged(arrays: list[Array], roi: Roi) -> np.ndarray:
    """Ids of source k become (id - 1) * n + k + 1; the earliest source with an object wins."""
    n = np.uint64(len(arrays))
    merged = None
    for k in reversed(range(len(arrays))):
        ids = read(arrays[k], roi).astype(np.uint64)
        relabelled = (ids - np.uint64(1)) * n + np.uint64(k + 1)
        merged = np.where(ids != 0, relabelled, np.uint64(0) if merged is None else merged)
    return merged


def merge_instances_array(config, mode: str = "r") -> Array:
    arrays = [c.array("r") for c in config.source_array_configs]
    names = [c.name for c in config.source_array_configs]
    for array, name in zip(arrays, names):
        if array.channel_dims:
            raise config_error(
                config,
                "source_array_configs",
                name,
                f"has channel axes {array.axis_names}; expected instance labels without channels",
            )
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
            raise config_error(
                config, "source_array_configs", name, f"has dtype {array.dtype}; expected integer ids"
            )
    roi = common_roi(config, "source_array_configs", arrays, names)
    return computed_from(arrays[0], partial(_merged, arrays), np.uint64, roi=roi)
