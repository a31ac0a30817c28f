"""Runtime of ``ConcatArrayConfig``."""

from __future__ import annotations

import dask.array as da
import numpy as np
from funlib.persistence import Array

from ._combine import common_roi, crop_data, spatial_names
from ._fields import config_error
from .array_utils import derived


def concat_array(config, mode: str = "r") -> Array:
    opened: dict[int, Array] = {}  # one runtime array per distinct source config
    arrays, names = [], []
    for channel, source_config in zip(config.channels, config.sources()):
        key = id(source_config)
        if key not in opened:
            opened[key] = source_config.array("r")
        array = opened[key]
        channels = int(np.prod(array.shape[: array.channel_dims])) if array.channel_dims else 1
        if channels != 1:
            field = "source_array_configs" if channel in config.source_array_configs else "default_config"
            raise config_error(
                config,
                field,
                source_config.name,
                f"has {channels} channels (shape {array.shape}, axes {array.axis_names}); "
                f"channel {channel!r} needs a single-channel array",
            )
        arrays.append(array)
        names.append(source_config.name)
    roi = common_roi(config, "source_array_configs", arrays, names)
    spatial = arrays[0].spatial_dims
    data = []
    for array in arrays:
        if array.spatial_dims != spatial:
            raise config_error(
                config, "source_array_configs", names, "have different numbers of spatial axes"
            )
        block = crop_data(array, roi)
        if array.channel_dims:
            block = block[(0,) * array.channel_dims]
        data.append(block)
    dtype = np.result_type(*[a.dtype for a in arrays])
    stacked = da.stack([d.astype(dtype) for d in data], axis=0)
    first = arrays[0]
    return derived(
        first,
        stacked,
        axis_names=["c^"] + spatial_names(first),
        offset=roi.begin,
        attrs={"channel_names": list(config.channels)},
    )
