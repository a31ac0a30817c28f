"""``read(array, roi)``, the training/prediction read path: it must give exactly what the lazy
dask view (``array[roi]``) gives for every kind of array and ROI, build no dask graph for
arrays computed from stores, and hand out fresh arrays."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi
from funlib.persistence import Array
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dacapo.experiments.datasplits.datasets.arrays import (
    BinarizeArrayConfig,
    ConcatArrayConfig,
    ConstantArrayConfig,
    CropArrayConfig,
    IntensitiesArrayConfig,
    LogicalOrArrayConfig,
    MergeInstancesArrayConfig,
    MissingAnnotationsMaskConfig,
    ResampledArrayConfig,
    SumArrayConfig,
    ZarrArrayConfig,
)
from dacapo.experiments.datasplits.datasets.arrays.array_utils import computed_array, read
from dacapo.utils.synthetic import write_array

VOXEL = (4, 4, 4)
OFFSET = (8, 4, 0)
SHAPE = (14, 12, 10)


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reads")
    rng = np.random.default_rng(11)
    path = root / "c.zarr"
    write_array(path, "raw", rng.integers(0, 256, SHAPE).astype(np.uint8), VOXEL, OFFSET, chunks=5)
    write_array(path, "ids", rng.integers(0, 5, SHAPE).astype(np.uint32), VOXEL, OFFSET, chunks=4)
    write_array(path, "ids2", rng.integers(0, 5, SHAPE).astype(np.uint64), VOXEL, OFFSET, chunks=6)
    write_array(path, "chan", rng.integers(0, 3, (2,) + SHAPE).astype(np.uint8), VOXEL, OFFSET, chunks=4)
    raw = ZarrArrayConfig("raw", path, "raw")
    ids = ZarrArrayConfig("ids", path, "ids")
    ids2 = ZarrArrayConfig("ids2", path, "ids2")
    chan = ZarrArrayConfig("chan", path, "chan")
    binarized = BinarizeArrayConfig("bin", ids, [("one", [1]), ("two", [2, 3]), ("any", [])])
    return {
        "zarr": raw,
        "snapped": ZarrArrayConfig("snapped", path, "raw", snap_to_grid=(8, 8, 8)),
        "intensities": IntensitiesArrayConfig("norm", raw, min=20.0, max=230.0),
        "binarize": binarized,
        "concat": ConcatArrayConfig(
            "cat", ["a", "b", "c"], {"a": BinarizeArrayConfig("b1", ids, [("x", [1])]), "c": ids},
            default_config=BinarizeArrayConfig("b2", ids2, [("y", [2])]),
        ),
        "crop": CropArrayConfig("crop", chan, Roi((12, 8, 4), (24, 20, 16))),
        "sum": SumArrayConfig("sum", [ids, ids2]),
        "merge": MergeInstancesArrayConfig("merge", [ids, ids2]),
        "logical_or": LogicalOrArrayConfig("or", binarized),
        "constant": ConstantArrayConfig("const", chan, 7),
        "mask": MissingAnnotationsMaskConfig("mask", ids, [("one", [1]), ("two", [2])]),
        "resampled": ResampledArrayConfig("down", raw, (0, 0, 0), (2, 2, 2), True),
        "chain": IntensitiesArrayConfig(
            "chain", CropArrayConfig("crop2", raw, Roi((16, 8, 8), (32, 32, 24))), min=0.0, max=255.0
        ),
    }


def _rois(array: Array):
    voxel_size = Coordinate(array.voxel_size)
    shape = array.roi.shape / voxel_size
    begin = st.tuples(*(st.integers(0, s - 1) for s in shape))
    return begin.flatmap(
        lambda b: st.tuples(*(st.integers(1, s - x) for s, x in zip(shape, b))).map(
            lambda size: Roi(array.roi.offset + Coordinate(b) * voxel_size, Coordinate(size) * voxel_size)
        )
    )


@pytest.mark.parametrize(
    "kind",
    ["zarr", "snapped", "intensities", "binarize", "concat", "crop", "sum", "merge", "logical_or",
     "constant", "mask", "resampled", "chain"],
)
def test_read_equals_the_lazy_view(configs, kind):
    array = configs[kind].array()

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(roi=_rois(array))
    def check(roi):
        expected = array[roi]
        got = read(array, roi)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)

    check()


def test_reads_of_stored_arrays_build_no_dask_graph(configs, monkeypatch):
    arrays = {k: configs[k].array() for k in ("intensities", "binarize", "concat", "chain", "snapped")}

    def refuse(*args, **kwargs):
        raise AssertionError("read went through dask")

    monkeypatch.setattr(da.Array, "compute", refuse)
    monkeypatch.setattr(da.Array, "__getitem__", refuse)
    for array in arrays.values():
        roi = array.roi.grow(-Coordinate(VOXEL), -Coordinate(VOXEL))
        assert read(array, roi).shape[-3:] == tuple(roi.shape / array.voxel_size)


def test_reads_are_fresh_and_checked():
    backing = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    array = Array(backing, offset=(0, 0, 0), voxel_size=(1, 1, 1))
    got = read(array, Roi((0, 0, 0), (2, 3, 4)))
    got[:] = 0
    assert backing.sum() == np.arange(24).sum()  # the source is untouched
    with pytest.raises(IndexError, match="not contained"):
        read(array, Roi((1, 0, 0), (2, 3, 4)))


_axis_key = st.one_of(
    st.slices(9),
    st.integers(-9, 8),
)


@settings(max_examples=200, deadline=None)
@given(key=st.tuples(st.slices(2), _axis_key, _axis_key, _axis_key), ellipsis=st.booleans())
def test_computed_indexing_matches_numpy(key, ellipsis):
    """The numpy-like that dask and funlib index computes the bounding ROI and indexes into it
    exactly as numpy indexes the whole."""
    whole = np.arange(2 * 9 * 9 * 9, dtype=np.int32).reshape(2, 9, 9, 9)
    voxel_size = Coordinate(2, 3, 4)
    offset = Coordinate(10, 0, -8)
    calls = []

    def compute(roi):
        calls.append(roi)
        begin = (roi.begin - offset) / voxel_size
        end = (roi.end - offset) / voxel_size
        return whole[(slice(None),) + tuple(slice(b, e) for b, e in zip(begin, end))].copy()

    array = computed_array(
        compute, np.int32, roi=Roi(offset, Coordinate(9, 9, 9) * voxel_size), voxel_size=voxel_size,
        axis_names=["c^", "z", "y", "x"], channel_shape=(2,),
    )
    source = array._source_data
    if ellipsis:
        key = (key[0], Ellipsis, key[3])
    np.testing.assert_array_equal(source[key], whole[key])
    assert all(not roi.empty for roi in calls)  # empty selections never reach compute
