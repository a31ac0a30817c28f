"""Runtime of ``IntensitiesArrayConfig``."""

from __future__ import annotations

from functools import partial

import numpy as np
from funlib.persistence import Array

from .array_utils import pointwise


def normalised(low: np.float32, scale: np.float32, block: np.ndarray) -> np.ndarray:
    """``(block - low) / scale`` clipped to [0, 1], as float32."""
    data = block.astype(np.float32)
    data -= low
    data /= scale
    return np.clip(data, np.float32(0.0), np.float32(1.0), out=data)


def intensities_array(config, mode: str = "r") -> Array:
    source = config.source_array_config.array("r")
    low = np.float32(config.min)
    scale = np.float32(config.max) - low
    return pointwise(source, partial(normalised, low, scale), np.float32)
