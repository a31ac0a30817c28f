"""Runtime of ``SumArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.geometry import Roi
from funlib.persistence import Array

from ._combine import common_roi
from ._fields import config_error
from .array_utils import computed_from, read


def _summed(arrays: list[Array], roi: Roi) -> np.ndarray:
    return np.stack([read(a, roi) for a in arrays]).sum(axis=0)


def sum_array(config, mode: str = "r") -> Array:
    arrays = [c.array("r") for c in config.source_array_configs]
    names = [c.name for c in config.source_array_configs]
    first = arrays[0]
    for array, name in zip(arrays[1:], names[1:]):
        channels = array.shape[: array.channel_dims]
        if array.channel_dims != first.channel_dims or channels != first.shape[: first.channel_dims]:
            raise config_error(
                config,
                "source_array_configs",
                names,
                f"have different channels: {names[0]} {first.shape[: first.channel_dims]} "
                f"(axes {first.axis_names}), {name} {channels} (axes {array.axis_names})",
            )
    roi = common_roi(config, "source_array_configs", arrays, names)
    dtype = np.stack([np.zeros(1, a.dtype) for a in arrays]).sum(axis=0).dtype
    return computed_from(first, partial(_summed, arrays), dtype, roi=roi)
