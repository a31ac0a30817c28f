"""Runtime of ``IntensitiesArrayConfig``."""

from __future__ import annotations

import numpy as np
from funlib.persistence import Array

from .array_utils import derived


def intensities_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    low = np.float32(config.min)
    scale = np.float32(config.max) - low
    data = source.data.astype(np.float32)
    data = ((data - low) / scale).clip(np.float32(0.0), np.float32(1.0)).astype(np.float32)
    return derived(source, data)
