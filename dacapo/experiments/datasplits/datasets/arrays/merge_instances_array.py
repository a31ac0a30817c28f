"""Runtime of ``MergeInstancesArrayConfig``."""

from __future__ import annotations

import dask.array as da
import numpy as np
from funlib.persistence import Array

from ._combine import common_roi, crop_data
from ._fields import config_error
from .array_utils import derived


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
    n = np.uint64(len(arrays))
    merged = None
    for k in reversed(range(len(arrays))):  # the earliest source is applied last: it wins
        ids = crop_data(arrays[k], roi).astype(np.uint64)
        relabelled = (ids - np.uint64(1)) * n + np.uint64(k + 1)
        if merged is None:
            merged = da.where(ids != 0, relabelled, np.uint64(0))
        else:
            merged = da.where(ids != 0, relabelled, merged)
    return derived(arrays[0], merged.astype(np.uint64), offset=roi.begin)
