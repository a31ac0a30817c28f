"""Runtime of ``LogicalOrArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.persistence import Array

from ._combine import spatial_names
from .array_utils import pointwise


def _any_nonzero(channel_dims: int, block: np.ndarray) -> np.ndarray:
    nonzero = block != 0
    if channel_dims:
        nonzero = nonzero.any(axis=tuple(range(channel_dims)))
    return nonzero.astype(np.uint8)


def logical_or_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    return pointwise(
        source,
        partial(_any_nonzero, source.channel_dims),
        np.uint8,
        channel_shape=(),
        axis_names=spatial_names(source),
    )
