"""``read_padded(..., padding="reflect")``: any window, however far outside the array, equals the
same window of the whole array padded by ``numpy.pad(mode="reflect")`` (so blocks read this way
tile exactly like one padded volume)."""

from __future__ import annotations

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array
from hypothesis import given, settings
from hypothesis import strategies as st

from dacapo.experiments.datasplits.datasets.arrays.array_utils import read_padded

VOXEL = Coordinate(2, 3)
OFFSET = Coordinate(4, -6)


def _array(shape, channels: int):
    data = np.random.default_rng(sum(shape)).integers(0, 255, (channels, *shape)).astype(np.uint8)
    if channels == 1:
        data = data[0]
    axis_names = (["c^"] if channels > 1 else []) + ["y", "x"]
    return Array(data, offset=OFFSET, voxel_size=VOXEL, axis_names=axis_names), data


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    begin=st.tuples(st.integers(-20, 12), st.integers(-20, 12)),
    size=st.tuples(st.integers(1, 25), st.integers(1, 25)),
    channels=st.sampled_from([1, 3]),
)
def test_reflect_equals_numpy_pad(shape, begin, size, channels):
    array, data = _array(shape, channels)
    roi = Roi(OFFSET + Coordinate(begin) * VOXEL, Coordinate(size) * VOXEL)
    got = read_padded(array, roi, padding="reflect")
    # numpy.pad far enough on every side, then the window
    margin = 40
    spatial = [(0, 0)] * (data.ndim - 2) + [(margin, margin)] * 2
    padded = np.pad(data, spatial, mode="reflect")
    window = tuple(slice(b + margin, b + margin + s) for b, s in zip(begin, size))
    np.testing.assert_array_equal(got, padded[(slice(None),) * (data.ndim - 2) + window])


def test_zero_padding_and_unknown_mode():
    array, data = _array((4, 5), 1)
    roi = Roi(OFFSET - VOXEL, Coordinate(6, 7) * VOXEL)
    expected = np.pad(data, 1)
    np.testing.assert_array_equal(read_padded(array, roi), expected)
    with pytest.raises(ValueError, match="padding='mirror': must be one of zero, reflect"):
        read_padded(array, roi, padding="mirror")
