"""Runtime of ``LogicalOrArrayConfig``."""

from __future__ import annotations

import numpy as np
from funlib.persistence import Array

from ._combine import spatial_names
from .array_utils import derived


def logical_or_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    data = source.data != 0
    if source.channel_dims:
        data = data.any(axis=tuple(range(source.channel_dims)))
    return derived(source, data.astype(np.uint8), axis_names=spatial_names(source))
