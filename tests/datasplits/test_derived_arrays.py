"""Intensities, Binarize, Resampled and MissingAnnotationsMask arrays against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from funlib.geometry import Coordinate, Roi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.ndimage import map_coordinates

from dacapo.config import ConfigError
from dacapo.experiments.datasplits.datasets.arrays import (
    BinarizeArrayConfig,
    IntensitiesArrayConfig,
    MissingAnnotationsMaskConfig,
    ResampledArrayConfig,
    ZarrArrayConfig,
)
from dacapo.utils.synthetic import write_array

VOXEL = (8, 4, 2)
OFFSET = (16, 8, 4)  # on the 2x-downsampled grid (16, 8, 4) too
SHAPE = (12, 14, 16)


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    root = tmp_path_factory.mktemp("derived")
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, SHAPE).astype(np.uint8)
    labels = rng.choice(np.array([0, 1, 2, 47, 48], dtype=np.uint64), SHAPE)
    odd = rng.integers(0, 256, (9, 9, 9)).astype(np.uint8)
    write_array(root / "c.n5", "raw", raw, VOXEL, OFFSET, chunks=5)
    write_array(root / "c.n5", "labels", labels, VOXEL, OFFSET, chunks=5)
    write_array(root / "c.n5", "odd", odd, (4, 4, 4), (4, 8, 12), chunks=4)  # offsets off 8 nm
    write_array(root / "c.n5", "channels", labels[None].repeat(2, 0), VOXEL, OFFSET)
    return {
        "root": root,
        "raw": raw,
        "labels": labels,
        "odd": odd,
        "raw_config": ZarrArrayConfig("raw", root / "c.n5", "raw"),
        "labels_config": ZarrArrayConfig("labels", root / "c.n5", "labels"),
        "odd_config": ZarrArrayConfig("odd", root / "c.n5", "odd"),
    }


# --- intensities ----------------------------------------------------------------------------
def test_intensities(volumes):
    config = IntensitiesArrayConfig("norm", volumes["raw_config"], min=50.0, max=200.0)
    array = config.array()
    assert array.dtype == np.float32
    assert array.roi == volumes["raw_config"].array().roi
    assert array.voxel_size == Coordinate(VOXEL)
    expected = np.clip((volumes["raw"].astype(np.float32) - 50) / 150, 0, 1)
    np.testing.assert_allclose(array[array.roi], expected, rtol=1e-6)
    assert array[array.roi].min() == 0.0 and array[array.roi].max() == 1.0


def test_intensities_errors(volumes):
    with pytest.raises(ConfigError, match=r"^IntensitiesArrayConfig 'norm': max=1.0 must be > min=2.0$"):
        IntensitiesArrayConfig("norm", volumes["raw_config"], min=2, max=1)
    with pytest.raises(ConfigError, match=r"^IntensitiesArrayConfig 'norm': source_array_config=None must be an array config$"):
        IntensitiesArrayConfig("norm", None, min=0, max=1)


# --- binarize -------------------------------------------------------------------------------
def test_binarize(volumes):
    labels = volumes["labels"]
    config = BinarizeArrayConfig(
        "gt",
        volumes["labels_config"],
        groupings=[("peroxisome", [47, 48]), ("one", [1]), ("anything", [])],
        background=0,
    )
    array = config.array()
    assert array.dtype == np.uint8
    assert array.axis_names == ["c^", "z", "y", "x"]
    assert array.shape == (3, *SHAPE)
    assert array.roi == volumes["labels_config"].array().roi
    assert array.attrs["channel_names"] == ["peroxisome", "one", "anything"]
    assert config.channel_names == ["peroxisome", "one", "anything"]
    got = array[array.roi]
    np.testing.assert_array_equal(got[0], np.isin(labels, [47, 48]))
    np.testing.assert_array_equal(got[1], labels == 1)
    np.testing.assert_array_equal(got[2], labels != 0)
    roi = Roi((24, 12, 8), (16, 8, 10))
    np.testing.assert_array_equal(array[roi][0], np.isin(labels[1:3, 1:3, 2:7], [47, 48]))


def test_binarize_background(volumes):
    config = BinarizeArrayConfig("gt", volumes["labels_config"], [("not47", [])], background=47)
    got = config.array()[volumes["labels_config"].array().roi]
    np.testing.assert_array_equal(got[0], volumes["labels"] != 47)


@pytest.mark.parametrize(
    "groupings",
    [
        [("peroxisome", 47)],
        [("peroxisome", ["a"])],
        [],
        [("a", [1]), ("a", [2])],
        "peroxisome",
        [(47, [47])],
    ],
)
def test_wrong_groupings(volumes, groupings):
    with pytest.raises(ConfigError) as exc_info:
        BinarizeArrayConfig("gt", volumes["labels_config"], groupings=groupings)
    message = str(exc_info.value)
    assert "\n" not in message
    assert message.startswith("BinarizeArrayConfig 'gt': groupings=")
    with pytest.raises(ConfigError, match=r"^MissingAnnotationsMaskConfig 'm': groupings="):
        MissingAnnotationsMaskConfig("m", volumes["labels_config"], groupings=groupings)


def test_binarize_rejects_channels(volumes):
    source = ZarrArrayConfig("channels", volumes["root"] / "c.n5", "channels", axes=["c^", "z", "y", "x"])
    with pytest.raises(ConfigError, match=r"^BinarizeArrayConfig 'gt': source_array_config=channels has channel axes"):
        BinarizeArrayConfig("gt", source, [("a", [1])]).array()
    ok, message = BinarizeArrayConfig("gt", source, [("a", [1])]).verify()
    assert not ok and "has channel axes" in message
    ok, message = BinarizeArrayConfig("gt", volumes["labels_config"], [("a", [1])]).verify()
    assert ok, message


# --- resampling: numpy references computed from world coordinates ---------------------------
def _reference_down(data, offset, voxel_size, out, order):
    """Value of every voxel of ``out`` (a funlib Array) from the source in numpy."""
    offset, voxel_size = np.array(offset), np.array(voxel_size)
    factors = np.array(out.voxel_size) // voxel_size
    begin = (np.array(out.offset) - offset) // voxel_size
    sl = tuple(slice(b, b + n * f) for b, n, f in zip(begin, out.shape, factors))
    block = data[sl]
    if order == 0:
        return block[tuple(slice(None, None, f) for f in factors)]
    shape = []
    for n, f in zip(out.shape, factors):
        shape += [n, f]
    mean = block.reshape(shape).astype(np.float64).mean(axis=(1, 3, 5))
    return np.clip(np.round(mean), 0, 255).astype(data.dtype)


def _reference_up(data, factors, order):
    if order == 0:
        out = data
        for axis, f in enumerate(factors):
            out = np.repeat(out, f, axis=axis)
        return out
    coords = np.meshgrid(
        *[(np.arange(n * f) + 0.5) / f - 0.5 for n, f in zip(data.shape, factors)], indexing="ij"
    )
    values = map_coordinates(data.astype(np.float64), coords, order=1, mode="nearest")
    return np.clip(np.round(values), 0, 255).astype(data.dtype)


def test_tutorial_downsample_labels(volumes):
    config = ResampledArrayConfig(
        "gt8", volumes["labels_config"], upsample=(0, 0, 0), downsample=(2, 2, 2), interp_order=False
    )
    array = config.array()
    assert array.voxel_size == Coordinate(16, 8, 4)
    assert array.offset == Coordinate(16, 8, 4)
    assert array.shape == (6, 7, 8)
    assert array.dtype == np.uint64
    np.testing.assert_array_equal(array[array.roi], volumes["labels"][::2, ::2, ::2])


def test_downsample_anisotropic_and_no_change_axes(volumes):
    config = ResampledArrayConfig("r", volumes["raw_config"], (0, 1, 0), (1, 2, 0), interp_order=1)
    array = config.array()
    assert array.voxel_size == Coordinate(8, 8, 2)
    expected = _reference_down(volumes["raw"], OFFSET, VOXEL, array, 1)
    np.testing.assert_array_equal(array[array.roi], expected)


def test_downsample_shrinks_to_new_grid(volumes):
    # odd: offset (4, 8, 12) at 4 nm, 9 voxels; 8 nm grid -> begin (8, 8, 16), shapes (4, 4, 4)
    config = ResampledArrayConfig("r", volumes["odd_config"], (0, 0, 0), (2, 2, 2), interp_order=False)
    array = config.array()
    assert array.roi == Roi((8, 8, 16), (32, 32, 32))
    np.testing.assert_array_equal(array[array.roi], volumes["odd"][1:9:2, 0:8:2, 1:9:2])


def test_upsample(volumes):
    for order in (0, 1):
        config = ResampledArrayConfig("up", volumes["raw_config"], (2, 2, 2), (0, 0, 0), order)
        array = config.array()
        assert array.voxel_size == Coordinate(4, 2, 1)
        assert array.roi == volumes["raw_config"].array().roi
        assert array.dtype == np.uint8
        expected = _reference_up(volumes["raw"], (2, 2, 2), order)
        np.testing.assert_array_equal(array[array.roi], expected)


def test_identity_and_errors(volumes):
    same = ResampledArrayConfig("same", volumes["raw_config"], (0, 0, 0), (0, 0, 0), False).array()
    np.testing.assert_array_equal(same[same.roi], volumes["raw"])
    with pytest.raises(ConfigError, match=r"^ResampledArrayConfig 'up': upsample=\(4, 4, 4\) does not divide"):
        ResampledArrayConfig("up", volumes["raw_config"], (4, 4, 4), (0, 0, 0), 0).array()
    with pytest.raises(ConfigError, match=r"^ResampledArrayConfig 'x': upsample=.* same number of axes"):
        ResampledArrayConfig("x", volumes["raw_config"], (0, 0), (2, 2, 2), 0)
    with pytest.raises(ConfigError, match=r"^ResampledArrayConfig 'x': downsample=.*non-negative"):
        ResampledArrayConfig("x", volumes["raw_config"], (0, 0, 0), (-2, 2, 2), 0)
    with pytest.raises(ConfigError, match=r"^ResampledArrayConfig 'x': downsample=.*leaves nothing"):
        ResampledArrayConfig("x", volumes["raw_config"], (0, 0, 0), (64, 2, 2), 0).array()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    up=st.tuples(*[st.sampled_from([0, 1, 2])] * 3),
    down=st.tuples(*[st.sampled_from([0, 1, 2, 3])] * 3),
    order=st.sampled_from([0, 1]),
    fractions=st.tuples(*[st.tuples(st.floats(0, 1), st.floats(0, 1))] * 3),
)
def test_random_rois_of_resampled_arrays(volumes, up, down, order, fractions):
    """Random ROIs read from resampled arrays equal the numpy reference of the whole array."""
    config = ResampledArrayConfig("r", volumes["raw_config"], up, down, order)
    try:
        array = config.array()
    except ConfigError as exc:  # e.g. upsampling 2 of a 2 nm axis would need 1 nm: allowed;
        assert "does not divide" in str(exc) or "leaves nothing" in str(exc)
        return
    ups = [max(u, 1) for u in up]
    downs = [max(d, 1) for d in down]
    assert array.voxel_size == Coordinate(v * d // u for v, d, u in zip(VOXEL, downs, ups))
    upsampled = _reference_up(volumes["raw"], ups, order)
    fine_voxel = [v // u for v, u in zip(VOXEL, ups)]
    full = _reference_down(upsampled, OFFSET, fine_voxel, array, order)
    # a random voxel-aligned sub-roi
    begin, shape = [], []
    for (a, b), n in zip(fractions, array.shape):
        lo, hi = sorted((int(a * n), int(b * n)))
        hi = max(hi, lo + 1) if lo < n else n
        lo = min(lo, n - 1)
        begin.append(lo)
        shape.append(hi - lo)
    roi = Roi(array.offset + Coordinate(begin) * array.voxel_size, Coordinate(shape) * array.voxel_size)
    got = array[roi]
    expected = full[tuple(slice(b, b + s) for b, s in zip(begin, shape))]
    if order == 1 and any(u > 1 for u in ups) and any(d > 1 for d in downs):
        # interpolated then averaged: rounding happens once here, twice in the reference
        assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
    else:
        np.testing.assert_array_equal(got, expected)


# --- missing annotations mask ---------------------------------------------------------------
def _crop(root, name, annotation=None, parent_annotation=None):
    data = np.zeros((8, 8, 8), dtype=np.uint64)
    data[2:5, 2:5, 2:5] = 48
    dataset = f"volumes/groundtruth/{name}/labels/all"
    attrs = {"cellmap": {"annotation": annotation}} if annotation is not None else None
    write_array(root / "m.n5", dataset, data, (4, 4, 4), (32, 32, 32), attrs=attrs)
    if parent_annotation is not None:
        import zarr

        from dacapo.experiments.datasplits.datasets.arrays.zarr_array import open_store

        group = zarr.open_group(open_store(root / "m.n5"), mode="a")
        group[f"volumes/groundtruth/{name}"].attrs["cellmap"] = {"annotation": parent_annotation}
    return ZarrArrayConfig(name, root / "m.n5", f"volumes/groundtruth/{name}/labels//all")


GROUPS = [("peroxisome", [47, 48]), ("mito", [3, 4]), ("lumen", [48])]


def test_mask_without_attributes_is_all_annotated(tmp_path):
    source = _crop(tmp_path, "crop1")
    mask = MissingAnnotationsMaskConfig("m", source, GROUPS).array()
    assert mask.dtype == np.uint8
    assert mask.axis_names == ["c^", "z", "y", "x"]
    assert mask.roi == Roi((32, 32, 32), (32, 32, 32))
    assert mask.attrs["channel_names"] == ["peroxisome", "mito", "lumen"]
    values = mask[mask.roi]
    assert values.shape == (3, 8, 8, 8) and values.min() == 1
    values[:] = 0  # a fresh array each time: consumers may modify it
    assert mask[mask.roi].min() == 1


def test_mask_from_cellmap_attributes(tmp_path):
    source = _crop(tmp_path, "crop2", {"class_ids_annotated": [3, 4, 48]})
    resampled = ResampledArrayConfig("r", source, (0, 0, 0), (2, 2, 2), False)
    mask = MissingAnnotationsMaskConfig("m", resampled, GROUPS).array()
    assert mask.voxel_size == Coordinate(8, 8, 8)
    assert mask.roi == Roi((32, 32, 32), (32, 32, 32))
    values = mask[mask.roi]
    assert values.shape == (3, 4, 4, 4)
    assert (values[0] == 0).all()  # 47 not annotated -> peroxisome group is not
    assert (values[1] == 1).all()
    assert (values[2] == 1).all()
    assert mask.attrs["annotated"] == [False, True, True]
    roi = Roi((40, 40, 48), (16, 8, 8))
    assert mask[roi].shape == (3, 2, 1, 1)


def test_mask_from_parent_group_and_unannotated_list(tmp_path):
    source = _crop(tmp_path, "crop3", parent_annotation={"class_ids_unannotated": [3]})
    mask = MissingAnnotationsMaskConfig("m", source, GROUPS).array()
    values = mask[mask.roi]
    assert [int(values[i].max()) for i in range(3)] == [1, 0, 1]


def test_mask_reads_no_chunks(tmp_path, chunk_reads):
    source = _crop(tmp_path, "crop4", {"class_ids_annotated": [47, 48]})
    mask = MissingAnnotationsMaskConfig("m", source, GROUPS).array()
    mask[mask.roi]
    assert chunk_reads.count == 0


def test_chains_read_only_needed_chunks(tmp_path, chunk_reads):
    rng = np.random.default_rng(0)
    labels = rng.choice(np.array([0, 47, 48], dtype=np.uint64), (96, 96, 96))
    raw = rng.integers(0, 256, (96, 96, 96)).astype(np.uint8)
    write_array(tmp_path / "big.n5", "labels", labels, (4, 4, 4), (0, 0, 0), chunks=16)
    write_array(tmp_path / "big.n5", "raw", raw, (8, 8, 8), (0, 0, 0), chunks=16)
    zl = ZarrArrayConfig("l", tmp_path / "big.n5", "labels", snap_to_grid=(16, 16, 16))
    zr = ZarrArrayConfig("r", tmp_path / "big.n5", "raw", snap_to_grid=(16, 16, 16))
    gt = BinarizeArrayConfig(
        "gt", ResampledArrayConfig("rs", zl, (0, 0, 0), (2, 2, 2), False), [("p", [47, 48])]
    ).array()
    norm = IntensitiesArrayConfig(
        "n", ResampledArrayConfig("rr", zr, (0, 0, 0), (2, 2, 2), True), min=0, max=255
    ).array()
    assert chunk_reads.count == 0
    roi = Roi((128, 128, 128), (64, 64, 64))  # 4 nm voxels 32:48 -> exactly chunk 2 per axis
    np.testing.assert_array_equal(gt[roi][0], np.isin(labels[32:48:2, 32:48:2, 32:48:2], [47, 48]))
    assert len(chunk_reads.keys) == 1
    chunk_reads.reset()
    got = norm[roi]  # 8 nm voxels 16:24 -> chunk 1 per axis
    assert len(chunk_reads.keys) == 1
    block = raw[16:24, 16:24, 16:24].reshape(4, 2, 4, 2, 4, 2).mean(axis=(1, 3, 5))
    np.testing.assert_allclose(got, np.round(block) / 255, atol=1e-6)
