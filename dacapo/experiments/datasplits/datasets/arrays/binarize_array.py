"""Runtime of ``BinarizeArrayConfig``."""

from __future__ import annotations

import dask.array as da
import numpy as np
from funlib.persistence import Array

from ._fields import config_error
from .array_utils import derived


def _group_mask(block: np.ndarray, ids: np.ndarray, background: int) -> np.ndarray:
    if ids.size == 0:
        return (block != background).astype(np.uint8)
    if ids.size == 1:
        return (block == ids[0]).astype(np.uint8)
    return np.isin(block, ids).astype(np.uint8)


def binarize_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    if source.channel_dims > 0:
        raise config_error(
            config,
            "source_array_config",
            config.source_array_config.name,
            f"has channel axes {source.axis_names}; expected a label array without channels",
        )
    data = source.data
    channels = []
    for _, ids in config.groupings:
        ids_array = np.asarray(ids, dtype=data.dtype if np.issubdtype(data.dtype, np.integer) else None)
        channels.append(
            data.map_blocks(_group_mask, ids_array, config.background, dtype=np.uint8)
        )
    stacked = da.stack(channels, axis=0)
    return derived(
        source,
        stacked,
        axis_names=["c^"] + list(source.axis_names),
        attrs={"channel_names": config.channel_names},
    )
