"""Runtime of ``BinarizeArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.persistence import Array

from ._fields import config_error
from .array_utils import pointwise


def _group_mask(block: np.ndarray, ids: np.ndarray, background: int) -> np.ndarray:
    if ids.size == 0:
        return block != background
    if ids.size == 1:
        return block == ids[0]
    return np.isin(block, ids)


def _group_masks(groups: list[np.ndarray], background: int, block: np.ndarray) -> np.ndarray:
    out = np.empty((len(groups),) + block.shape, dtype=np.uint8)
    for channel, ids in enumerate(groups):
        out[channel] = _group_mask(block, ids, background)
    return out


def binarize_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    if source.channel_dims > 0:
        raise config_error(
            config,
            "source_array_config",
            config.source_array_config.name,
            f"has channel axes {source.axis_names}; expected a label array without channels",
        )
    integer = np.issubdtype(source.dtype, np.integer)
    groups = [np.asarray(ids, dtype=source.dtype if integer else None) for _, ids in config.groupings]
    return pointwise(
        source,
        partial(_group_masks, groups, config.background),
        np.uint8,
        channel_shape=(len(groups),),
        axis_names=["c^"] + list(source.axis_names),
        attrs={"channel_names": config.channel_names},
    )
