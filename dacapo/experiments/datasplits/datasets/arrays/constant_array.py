"""Runtime of ``OnesArrayConfig``, ``ConstantArrayConfig`` and ``DummyArrayConfig``: constant
arrays that allocate only what is read."""

from __future__ import annotations

import dask.array as da
import numpy as np
from funlib.persistence import Array

from .array_utils import derived, make_array


def constant_dtype(value: int) -> np.dtype:
    return np.dtype(np.uint8) if 0 <= value <= 255 else np.dtype(np.int64)


def lazy_full(shape, chunks, value, dtype) -> da.Array:
    """A lazy constant whose computed blocks are fresh, writable arrays of the requested size
    (``da.zeros`` alone hands out read-only broadcast views)."""
    zeros = da.zeros(shape, chunks=chunks, dtype=dtype)
    return zeros + np.asarray(value, dtype=dtype)


def constant_array(config, value: int) -> Array:
    source = config.source_array_config.array("r")
    dtype = constant_dtype(int(value))
    data = lazy_full(source.shape, source.data.chunks, value, dtype)
    return derived(source, data, attrs={"constant": int(value)})


DUMMY_SHAPE = (100, 100, 100)


def dummy_array(config) -> Array:
    data = lazy_full(DUMMY_SHAPE, (50, 50, 50), 0, np.float32)
    return make_array(data, (0, 0, 0), (1, 1, 1), ["z", "y", "x"])
