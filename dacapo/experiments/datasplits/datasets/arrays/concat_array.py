"""Runtime of ``ConcatArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.geometry import Roi
from funlib.persistence import Array

from ._combine import common_roi, spatial_names
from ._fields import config_error
from .array_utils import computed_from, read


def _stacked(arrays: list[Array], dtype: np.dtype, roi: Roi) -> np.ndarray:
    """One channel per array (each single-channel), read once per distinct array."""
    reads: dict[int, np.ndarray] = {}
    out = None
    for channel, array in enumerate(arrays):
        if id(array) not in reads:
            reads[id(array)] = read(array, roi)
        block = reads[id(array)].reshape(reads[id(array)].shape[array.channel_dims :])
        if out is None:
            out = np.empty((len(arrays),) + block.shape, dtype=dtype)
        out[channel] = block
    return out


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
    if any(array.spatial_dims != spatial for array in arrays):
        raise config_error(
            config, "source_array_configs", names, "have different numbers of spatial axes"
        )
    dtype = np.result_type(*[a.dtype for a in arrays])
    first = arrays[0]
    return computed_from(
        first,
        partial(_stacked, arrays, dtype),
        dtype,
        channel_shape=(len(arrays),),
        axis_names=["c^"] + spatial_names(first),
        roi=roi,
        attrs={"channel_names": list(config.channels)},
    )
