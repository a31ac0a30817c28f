"""Concat, Crop, LogicalOr, Sum, MergeInstances, Ones, Constant and Dummy arrays against numpy:
values, ROI, voxel size, channels, laziness (chunk reads) and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from funlib.geometry import Coordinate, Roi

from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import (
    BinarizeArrayConfig,
    ConcatArrayConfig,
    ConstantArrayConfig,
    CropArrayConfig,
    DummyArrayConfig,
    LogicalOrArrayConfig,
    MergeInstancesArrayConfig,
    OnesArrayConfig,
    SumArrayConfig,
    ZarrArrayConfig,
)
from dacapo.store.converter import structure, unstructure
from dacapo.utils.synthetic import write_array

VOXEL = (4, 4, 4)


@pytest.fixture(scope="module")
def vols(tmp_path_factory):
    root = tmp_path_factory.mktemp("combined")
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, (16, 16, 16)).astype(np.uint8)  # offset (8, 8, 8)
    b = rng.integers(0, 4, (12, 16, 16)).astype(np.uint8)  # offset (24, 8, 8): z overlap 24..72
    ids = rng.integers(0, 6, (16, 16, 16)).astype(np.uint32)
    ids2 = rng.integers(0, 6, (16, 16, 16)).astype(np.uint64)
    chan = rng.integers(0, 2, (3, 16, 16, 16)).astype(np.uint8)
    floats = rng.random((16, 16, 16)).astype(np.float32)
    path = root / "c.zarr"
    write_array(path, "a", a, VOXEL, (8, 8, 8), chunks=8)
    write_array(path, "b", b, VOXEL, (24, 8, 8), chunks=8)
    write_array(path, "ids", ids, VOXEL, (8, 8, 8), chunks=8)
    write_array(path, "ids2", ids2, VOXEL, (8, 8, 8), chunks=8)
    write_array(path, "chan", chan, VOXEL, (8, 8, 8), chunks=8)
    write_array(path, "coarse", a[::2, ::2, ::2].copy(), (8, 8, 8), (8, 8, 8))
    write_array(path, "offgrid", a, VOXEL, (10, 8, 8))
    write_array(path, "floats", floats, VOXEL, (8, 8, 8))
    write_array(path, "far", a, VOXEL, (4000, 8, 8))
    z = lambda name: ZarrArrayConfig(name, path, name)  # noqa: E731
    return {
        "path": path,
        "a": a, "b": b, "ids": ids, "ids2": ids2, "chan": chan, "floats": floats,
        **{f"{n}_config": z(n) for n in ("a", "b", "ids", "ids2", "chan", "coarse", "offgrid", "floats", "far")},
    }


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def _roundtrip(config):
    assert structure(unstructure(config), type(config)) == config


# --- concat ---------------------------------------------------------------------------------
def test_concat_channel_order_and_default(vols):
    zeros = ConstantArrayConfig("zeros", vols["a_config"], constant=0)
    config = ConcatArrayConfig(
        "cat",
        channels=["b", "missing", "a"],
        source_array_configs={"a": vols["a_config"], "b": vols["b_config"]},
        default_config=zeros,
    )
    _roundtrip(config)
    array = config.array()
    assert array.axis_names == ["c^", "z", "y", "x"]
    assert array.voxel_size == Coordinate(VOXEL)
    assert array.roi == Roi((24, 8, 8), (48, 64, 64))  # the intersection of a and b
    assert array.attrs["channel_names"] == ["b", "missing", "a"]
    assert config.channel_names == ["b", "missing", "a"]
    got = array[array.roi]
    assert got.shape == (3, 12, 16, 16) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[0], vols["b"])
    np.testing.assert_array_equal(got[1], 0)
    np.testing.assert_array_equal(got[2], vols["a"][4:16])
    sub = Roi((32, 12, 16), (8, 8, 4))
    np.testing.assert_array_equal(array[sub][2], vols["a"][6:8, 1:3, 2:3])
    assert config.verify()[0]


def test_concat_single_channel_sources(vols):
    binarized = BinarizeArrayConfig("bin", vols["ids_config"], [("three", [3])])
    config = ConcatArrayConfig("cat", ["x", "y"], {"x": binarized, "y": vols["a_config"]})
    got = config.array()[config.array().roi]
    np.testing.assert_array_equal(got[0], vols["ids"] == 3)
    np.testing.assert_array_equal(got[1], vols["a"])


def test_concat_errors(vols):
    with pytest.raises(ConfigError) as exc_info:
        ConcatArrayConfig("cat", ["a", "b"], {"a": vols["a_config"]})
    assert _one_line(exc_info) == "ConcatArrayConfig 'cat': channels ['b'] have no source and default_config is None"
    with pytest.raises(ConfigError, match=r"^ConcatArrayConfig 'cat': source_array_configs has channels \['z'\]"):
        ConcatArrayConfig("cat", ["a"], {"a": vols["a_config"], "z": vols["a_config"]})
    with pytest.raises(ConfigError, match=r"^ConcatArrayConfig 'cat': channels=\['a', 'a'\] must be"):
        ConcatArrayConfig("cat", ["a", "a"], {"a": vols["a_config"]})
    with pytest.raises(ConfigError, match=r"^ConcatArrayConfig 'cat': source_array_configs=.* must map"):
        ConcatArrayConfig("cat", ["a"], {"a": "not a config"})
    multi = ConcatArrayConfig("cat", ["a"], {"a": vols["chan_config"]})
    with pytest.raises(ConfigError) as exc_info:
        multi.array()
    assert _one_line(exc_info).startswith("ConcatArrayConfig 'cat': source_array_configs=chan has 3 channels")
    ok, message = multi.verify()
    assert not ok and "has 3 channels" in message
    coarse = ConcatArrayConfig("cat", ["a", "c"], {"a": vols["a_config"], "c": vols["coarse_config"]})
    with pytest.raises(ConfigError) as exc_info:
        coarse.array()
    assert "have different voxel sizes: a (4, 4, 4), coarse (8, 8, 8)" in _one_line(exc_info)
    offgrid = ConcatArrayConfig("cat", ["a", "o"], {"a": vols["a_config"], "o": vols["offgrid_config"]})
    with pytest.raises(ConfigError, match="different voxel grids"):
        offgrid.array()
    far = ConcatArrayConfig("cat", ["a", "f"], {"a": vols["a_config"], "f": vols["far_config"]})
    with pytest.raises(ConfigError, match="do not overlap"):
        far.array()


# --- crop -----------------------------------------------------------------------------------
def test_crop(vols):
    roi = Roi((16, 12, 8), (20, 8, 100))  # x beyond the source: intersected
    config = CropArrayConfig("crop", vols["chan_config"], roi)
    _roundtrip(config)
    array = config.array()
    assert array.roi == Roi((16, 12, 8), (20, 8, 64))
    assert array.voxel_size == Coordinate(VOXEL)
    assert array.axis_names == ["c^", "z", "y", "x"]
    np.testing.assert_array_equal(array[array.roi], vols["chan"][:, 2:7, 1:3, :])
    assert CropArrayConfig("crop", vols["a_config"], ((16, 12, 8), (4, 4, 4))).roi == Roi((16, 12, 8), (4, 4, 4))


def test_crop_errors(vols):
    with pytest.raises(ConfigError, match=r"^CropArrayConfig 'crop': roi=.* must be a non-empty, bounded Roi$"):
        CropArrayConfig("crop", vols["a_config"], Roi((0, 0, 0), (0, 4, 4)))
    with pytest.raises(ConfigError) as exc_info:
        CropArrayConfig("crop", vols["a_config"], Roi((10, 8, 8), (8, 8, 8))).array()
    assert "is not on the voxel grid of the source (offset (8, 8, 8), voxel size (4, 4, 4))" in _one_line(exc_info)
    with pytest.raises(ConfigError, match="does not overlap the source roi"):
        CropArrayConfig("crop", vols["a_config"], Roi((800, 8, 8), (8, 8, 8))).array()
    with pytest.raises(ConfigError, match="has 2 axes, the source has 3 spatial axes"):
        CropArrayConfig("crop", vols["a_config"], Roi((8, 8), (8, 8))).array()


# --- logical or -----------------------------------------------------------------------------
def test_logical_or(vols):
    config = LogicalOrArrayConfig("or", vols["chan_config"])
    _roundtrip(config)
    array = config.array()
    assert array.axis_names == ["z", "y", "x"] and array.dtype == np.uint8
    assert array.roi == vols["chan_config"].array().roi
    np.testing.assert_array_equal(array[array.roi], vols["chan"].any(axis=0))
    plain = LogicalOrArrayConfig("or", vols["a_config"]).array()
    np.testing.assert_array_equal(plain[plain.roi], vols["a"] != 0)
    binarized = BinarizeArrayConfig("bin", vols["ids_config"], [("one", [1]), ("two", [2])])
    union = LogicalOrArrayConfig("or", binarized).array()
    np.testing.assert_array_equal(union[union.roi], np.isin(vols["ids"], [1, 2]))


# --- sum ------------------------------------------------------------------------------------
def test_sum(vols):
    config = SumArrayConfig("sum", [vols["a_config"], vols["b_config"], vols["a_config"]])
    _roundtrip(config)
    array = config.array()
    assert array.roi == Roi((24, 8, 8), (48, 64, 64))
    got = array[array.roi]
    expected = np.sum([vols["a"][4:16], vols["b"], vols["a"][4:16]], axis=0)
    assert got.dtype == expected.dtype  # numpy's accumulation dtype: no overflow
    np.testing.assert_array_equal(got, expected)
    channels = SumArrayConfig("sum", [vols["chan_config"], vols["chan_config"]]).array()
    assert channels.axis_names == ["c^", "z", "y", "x"]
    np.testing.assert_array_equal(channels[channels.roi], 2 * vols["chan"].astype(np.uint64))


def test_sum_errors(vols):
    with pytest.raises(ConfigError) as exc_info:
        SumArrayConfig("sum", [])
    assert _one_line(exc_info) == "SumArrayConfig 'sum': source_array_configs=[] must be a non-empty list of array configs"
    with pytest.raises(ConfigError, match="have different channels"):
        SumArrayConfig("sum", [vols["a_config"], vols["chan_config"]]).array()
    with pytest.raises(ConfigError, match=r"^SumArrayConfig 'sum': source_array_configs=\['a', 'coarse'\] have different voxel sizes"):
        SumArrayConfig("sum", [vols["a_config"], vols["coarse_config"]]).array()
    ok, message = SumArrayConfig("sum", [vols["a_config"], vols["coarse_config"]]).verify()
    assert not ok and "different voxel sizes" in message


# --- merge instances ------------------------------------------------------------------------
def test_merge_instances(vols):
    config = MergeInstancesArrayConfig("merged", [vols["ids_config"], vols["ids2_config"]])
    _roundtrip(config)
    array = config.array()
    assert array.dtype == np.uint64 and array.axis_names == ["z", "y", "x"]
    assert array.roi == vols["ids_config"].array().roi
    got = array[array.roi]
    first, second = vols["ids"].astype(np.uint64), vols["ids2"]
    expected = np.where(first > 0, (first - 1) * 2 + 1, np.where(second > 0, (second - 1) * 2 + 2, 0))
    np.testing.assert_array_equal(got, expected)
    # ids are unique across sources: every merged id maps back to exactly one (source, id)
    assert not set(np.unique(got[(first > 0)])) & set(np.unique(got[(first == 0) & (second > 0)]))
    # consistent across blocks: reading a sub-roi gives the same ids
    sub = Roi((20, 20, 20), (16, 16, 16))
    np.testing.assert_array_equal(array[sub], got[3:7, 3:7, 3:7])
    single = MergeInstancesArrayConfig("one", [vols["ids_config"]]).array()
    np.testing.assert_array_equal(single[single.roi], vols["ids"])


def test_merge_instances_errors(vols):
    with pytest.raises(ConfigError, match="has channel axes"):
        MergeInstancesArrayConfig("m", [vols["ids_config"], vols["chan_config"]]).array()
    with pytest.raises(ConfigError) as exc_info:
        MergeInstancesArrayConfig("m", [vols["floats_config"]]).array()
    assert _one_line(exc_info) == "MergeInstancesArrayConfig 'm': source_array_configs=floats has dtype float32; expected integer ids"


# --- ones / constant / dummy ----------------------------------------------------------------
def test_ones_and_constant(vols):
    for config, value, dtype in (
        (OnesArrayConfig("ones", vols["chan_config"]), 1, np.uint8),
        (ConstantArrayConfig("c", vols["chan_config"], constant=7), 7, np.uint8),
        (ConstantArrayConfig("c", vols["chan_config"], constant=-3), -3, np.int64),
        (ConstantArrayConfig("c", vols["chan_config"]), 1, np.uint8),
    ):
        _roundtrip(config)
        array = config.array()
        assert array.dtype == dtype
        assert array.axis_names == ["c^", "z", "y", "x"]
        assert array.roi == Roi((8, 8, 8), (64, 64, 64))
        assert array.voxel_size == Coordinate(VOXEL)
        got = array[Roi((12, 8, 8), (8, 4, 4))]
        assert got.shape == (3, 2, 1, 1) and (got == value).all()
        got[:] = 0  # fresh, writable arrays
        assert (array[Roi((12, 8, 8), (8, 4, 4))] == value).all()
    with pytest.raises(ConfigError, match=r"^ConstantArrayConfig 'c': constant=1.5 must be an integer$"):
        ConstantArrayConfig("c", vols["a_config"], constant=1.5)


def test_ones_never_allocate_or_read(tmp_path, chunk_reads):
    """A 4096³ source (64 GiB were it allocated): opening and reading a small ROI is instant."""
    group = zarr.open_group(str(tmp_path / "huge.zarr"), mode="a")
    huge = group.create_dataset("raw", shape=(4096, 4096, 4096), chunks=(64, 64, 64), dtype=np.uint8)
    huge.attrs.update({"voxel_size": [8, 8, 8], "offset": [0, 0, 0], "axis_names": ["z", "y", "x"]})
    source = ZarrArrayConfig("huge", tmp_path / "huge.zarr", "raw")
    for config in (OnesArrayConfig("ones", source), ConstantArrayConfig("zeros", source, 0)):
        array = config.array()
        assert array.shape == (4096, 4096, 4096)
        got = array[Roi((800, 800, 800), (80, 80, 80))]
        assert got.shape == (10, 10, 10)
    assert chunk_reads.count == 0


def test_dummy_array():
    config = DummyArrayConfig("dummy")
    _roundtrip(config)
    array = config.array()
    assert array.shape == (100, 100, 100) and array.dtype == np.float32
    assert array.roi == Roi((0, 0, 0), (100, 100, 100))
    assert array.voxel_size == Coordinate(1, 1, 1)
    assert (array[Roi((10, 10, 10), (5, 5, 5))] == 0).all()
    assert config.verify()[0]


# --- laziness of every combination on a larger volume ---------------------------------------
def test_combined_arrays_read_only_needed_chunks(tmp_path, chunk_reads):
    rng = np.random.default_rng(1)
    big = rng.integers(0, 3, (96, 96, 96)).astype(np.uint8)
    other = rng.integers(0, 3, (96, 96, 96)).astype(np.uint8)
    write_array(tmp_path / "big.zarr", "a", big, VOXEL, (0, 0, 0), chunks=16)
    write_array(tmp_path / "big.zarr", "b", other, VOXEL, (0, 0, 0), chunks=16)
    a = ZarrArrayConfig("a", tmp_path / "big.zarr", "a")
    b = ZarrArrayConfig("b", tmp_path / "big.zarr", "b")
    roi = Roi((128, 128, 128), (64, 64, 64))  # voxels 32:48: exactly chunk 2 per axis
    sl = (slice(32, 48),) * 3
    cases = [
        (ConcatArrayConfig("cat", ["a", "b"], {"a": a, "b": b}), np.stack([big[sl], other[sl]]), 2),
        (CropArrayConfig("crop", a, Roi((64, 64, 64), (192, 192, 192))), big[sl], 1),
        (LogicalOrArrayConfig("or", BinarizeArrayConfig("bin", a, [("x", [1]), ("y", [2])])), big[sl] != 0, 1),
        (SumArrayConfig("sum", [a, b]), big[sl].astype(np.uint64) + other[sl], 2),
        (
            MergeInstancesArrayConfig("m", [a, b]),
            np.where(big[sl] > 0, (big[sl].astype(np.uint64) - 1) * 2 + 1,
                     np.where(other[sl] > 0, (other[sl].astype(np.uint64) - 1) * 2 + 2, 0)),
            2,
        ),
        (OnesArrayConfig("ones", a), np.ones((16, 16, 16), np.uint8), 0),
    ]
    for config, expected, reads in cases:
        chunk_reads.reset()
        array = config.array()
        assert chunk_reads.count == 0, type(config).__name__  # opening reads no chunks
        np.testing.assert_array_equal(array[roi], expected)
        assert chunk_reads.count == reads, (type(config).__name__, chunk_reads.keys)
